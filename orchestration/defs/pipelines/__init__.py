"""The pipelines across sources: the named jobs (``mail_to_cards``, ``erp_refresh``,
``nightly_full``), their schedules, the declarative automation of the dbt models, and the
freshness checks on the landings the screens read; the nightly backup (``nightly_backup``)."""

import dagster as dg

from orchestration.defs.pipelines.automation import (
    dbt_automation_sensor,
    erp_schedule,
    nightly_schedule,
)
from orchestration.defs.pipelines.backup import backup_schedule, nightly_backup
from orchestration.defs.pipelines.freshness import FRESHNESS_CHECKS, freshness_sensor
from orchestration.defs.pipelines.jobs import erp_refresh, mail_to_cards, nightly_full

defs = dg.Definitions(
    jobs=[mail_to_cards, erp_refresh, nightly_full, nightly_backup],
    schedules=[erp_schedule, nightly_schedule, backup_schedule],
    sensors=[dbt_automation_sensor, freshness_sensor],
    asset_checks=FRESHNESS_CHECKS,
)
