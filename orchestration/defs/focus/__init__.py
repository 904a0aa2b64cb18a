"""Focus RT: the landing of sales orders, invoices and QC inspections, its resource and its
Great Expectations suites. It is pulled every 15 minutes by the ``erp_refresh`` job (with
Tally and the warehouse models, see orchestration/defs/pipelines)."""

import dagster as dg

from orchestration.checks import suite_checks
from orchestration.defs.focus.assets import FocusResource, raw_focus
from orchestration.defs.focus.checks import SUITES

defs = dg.Definitions(
    assets=[raw_focus],
    asset_checks=suite_checks(SUITES),
    resources={"focus": FocusResource()},
)
