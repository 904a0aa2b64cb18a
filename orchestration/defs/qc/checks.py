"""The QC alerts as a Dagster asset check on ``marts.qc_alerts``.

After each build of the mart, the check lists the alerts no one has acknowledged yet
(``ops.qc_alert_acks``, folded from the QC dashboard's ``QCAlertAcknowledged`` events)
and fails while there is any. It is a warning, not blocking: an alert is news about the
lab, not a broken model, so nothing downstream waits for it. Its metadata counts the open
alerts per type and names the newest :data:`ALERTS_LISTED` of them.

Written without ``from __future__ import annotations``: Dagster reads the check's
annotations at definition time.
"""

import dagster as dg
import psycopg

from orchestration.resources import WarehouseResource

QC_ALERTS = dg.AssetKey(["marts", "qc_alerts"])
#: Open alerts named in the check's metadata (the counts cover them all).
ALERTS_LISTED = 50

_OPEN = """
SELECT a.alert_id, a.alert_type, a.alerted_on, a.product_name, a.batch_no, a.detail
FROM marts.qc_alerts AS a
WHERE NOT EXISTS (SELECT 1 FROM ops.qc_alert_acks AS k WHERE k.alert_id = a.alert_id)
ORDER BY a.alerted_on DESC, a.alert_id
"""


def open_alerts(conn: psycopg.Connection) -> list[tuple]:
    """Every alert of the mart without an acknowledgement, newest first."""
    return conn.execute(_OPEN).fetchall()


@dg.asset_check(
    asset=QC_ALERTS,
    name="qc_alerts_acknowledged",
    description="Fails (warning, not blocking) while marts.qc_alerts holds alerts QC has "
    "not acknowledged on the QC dashboard: out of spec, drift towards a limit, COA overdue.",
    blocking=False,
)
def qc_alerts_acknowledged(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connection() as conn:
        rows = open_alerts(conn)
        total = conn.execute("SELECT count(*) FROM marts.qc_alerts").fetchone()[0]
    by_type: dict[str, int] = {}
    for row in rows:
        by_type[row[1]] = by_type.get(row[1], 0) + 1
    listed = [
        {
            "alert_id": alert_id,
            "type": alert_type,
            "on": alerted_on.isoformat() if alerted_on else None,
            "product": product,
            "batch": batch,
            "detail": detail,
        }
        for alert_id, alert_type, alerted_on, product, batch, detail in rows[:ALERTS_LISTED]
    ]
    return dg.AssetCheckResult(
        passed=not rows,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"{len(rows)} open QC alerts (acknowledge them on the QC dashboard)"
            if rows
            else "no open QC alerts"
        ),
        metadata={
            "open_alerts": len(rows),
            "acknowledged_alerts": total - len(rows),
            "open_by_type": dg.MetadataValue.json(by_type),
            "open_listed": dg.MetadataValue.json(listed),
        },
    )
