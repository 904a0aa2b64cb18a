"""Data quality: Great Expectations suites on every raw landing, as Dagster asset checks."""

import dagster as dg

from orchestration.defs.quality.expectations import suite_checks
from orchestration.defs.quality.suites import SUITES

defs = dg.Definitions(asset_checks=suite_checks(SUITES))
