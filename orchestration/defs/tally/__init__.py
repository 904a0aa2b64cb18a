"""Tally Prime: the landing of stock, masters and vouchers, its resource and its Great
Expectations suites. It is pulled every 15 minutes by the ``erp_refresh`` job (with Focus
RT and the warehouse models, see orchestration/defs/pipelines), one Tally run at a time."""

import dagster as dg

from orchestration.checks import suite_checks
from orchestration.defs.tally.assets import TallyResource, raw_tally
from orchestration.defs.tally.checks import SUITES

defs = dg.Definitions(
    assets=[raw_tally],
    asset_checks=suite_checks(SUITES),
    resources={"tally": TallyResource()},
)
