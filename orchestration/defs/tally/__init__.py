"""Tally Prime: the landing of stock, masters and vouchers, its 15-minute schedule, its
resource and its Great Expectations suites."""

import dagster as dg

from orchestration.checks import suite_checks
from orchestration.defs.tally.assets import TallyResource, raw_tally
from orchestration.defs.tally.automation import tally_job, tally_schedule
from orchestration.defs.tally.checks import SUITES

defs = dg.Definitions(
    assets=[raw_tally],
    asset_checks=suite_checks(SUITES),
    jobs=[tally_job],
    schedules=[tally_schedule],
    resources={"tally": TallyResource()},
)
