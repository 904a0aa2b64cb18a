"""The nightly backup: ``pebble backup`` as a Dagster job (``nightly_backup``), at 01:30 IST,
before the nightly full build, into ``PEBBLE_BACKUP_DIR`` (else ``$PEBBLE_HOME/backups``)
keeping the ``PEBBLE_BACKUP_KEEP`` newest (pebble/backup.py says what a backup holds)."""

import dagster as dg

#: 01:30 in India: the day's work is in, the 02:00 nightly build has not started.
BACKUP_CRON = "30 1 * * *"
TIMEZONE = "Asia/Kolkata"


@dg.op(tags={"kind": "postgres"})
def backup_home(context: dg.OpExecutionContext) -> dg.Output[str]:
    """A consistent backup of the warehouse, Dagster's database, attachments, rejected
    payloads and models, with a manifest of checksums; older backups beyond retention go."""
    from pebble.backup import backup

    report = backup(say=context.log.info)
    rows = sum(sum(tables.values()) for tables in report.tables.values())
    return dg.Output(
        str(report.path),
        metadata={
            "path": str(report.path),
            "bytes": report.bytes,
            "files": report.files,
            "rows": rows,
            "seconds": round(report.seconds, 1),
            "removed": len(report.removed),
        },
    )


@dg.job(
    name="nightly_backup",
    description="pebble backup: both databases, attachments and models, with retention.",
)
def nightly_backup() -> None:
    backup_home()


@dg.schedule(
    name="nightly_backup",
    job=nightly_backup,
    cron_schedule=BACKUP_CRON,
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def backup_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    return dg.RunRequest(run_key=f"backup:{context.scheduled_execution_time.isoformat()}")
