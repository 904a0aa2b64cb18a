"""Data quality checks on raw landings, visible as asset checks in the Dagster UI."""

import dagster as dg

from orchestration.defs.quality import mail_checks

defs = dg.Definitions(asset_checks=mail_checks.checks)
