"""Focus RT: the landing of sales orders, invoices and QC inspections, its 15-minute
schedule, its resource and its Great Expectations suites."""

import dagster as dg

from orchestration.checks import suite_checks
from orchestration.defs.focus.assets import FocusResource, raw_focus
from orchestration.defs.focus.automation import focus_job, focus_schedule
from orchestration.defs.focus.checks import SUITES

defs = dg.Definitions(
    assets=[raw_focus],
    asset_checks=suite_checks(SUITES),
    jobs=[focus_job],
    schedules=[focus_schedule],
    resources={"focus": FocusResource()},
)
