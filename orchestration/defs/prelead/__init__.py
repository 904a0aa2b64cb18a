"""Prelead: the landing of CSV/XLSX lead lists from the prelead drop folder, its sensor
and its Great Expectations suites."""

import dagster as dg

from orchestration.checks import suite_checks
from orchestration.defs.prelead.assets import raw_prelead
from orchestration.defs.prelead.automation import prelead_drop_sensor, prelead_job
from orchestration.defs.prelead.checks import SUITES

defs = dg.Definitions(
    assets=[raw_prelead],
    asset_checks=suite_checks(SUITES),
    jobs=[prelead_job],
    sensors=[prelead_drop_sensor],
)
