"""Quality control: the open QC alerts of ``marts.qc_alerts`` as an asset check, so an
out-of-spec result, a drift towards a limit or an overdue COA shows in the Dagster UI (and
in ``pebble materialize``'s summary) until QC acknowledges it on the QC dashboard."""

import dagster as dg

from orchestration.defs.qc.checks import qc_alerts_acknowledged

defs = dg.Definitions(asset_checks=[qc_alerts_acknowledged])
