"""The named jobs of the Dagster UI, each with its lineage: mail to cards, the ERP
refresh, the nightly full build. Each carries the run tags of what it touches
(orchestration/concurrency.py), so the run coordinator keeps their runs apart.

``mail_to_cards`` never waits for an ERP: it holds no Tally or Focus RT landing, and its
dbt step (``pebble_dbt_cards``) reads none of their tables, so an ERP outage still leaves
the trader with scored mail and cards. ``erp_refresh`` lands Tally and Focus RT and builds
the warehouse step (ERP staging and marts, the CRM master, the activity stream) on them.
``nightly_full`` builds everything, with a plain ``dbt build`` like every other run (never
``--full-refresh``: the activity stream is incremental and keeps its history), and it is
the run that also runs dbt's unit tests (``UNIT_TESTS_TAG``).
"""

import dagster as dg

from orchestration.concurrency import MAIL, SOURCE, TALLY, WAREHOUSE
from orchestration.defs.dbt.assets import UNIT_TESTS_TAG, pebble_dbt_cards, pebble_dbt_warehouse
from orchestration.defs.focus.assets import raw_focus
from orchestration.defs.mail.assets import raw_emails
from orchestration.defs.ml.assets import email_predictions
from orchestration.defs.tally.assets import raw_tally
from orchestration.defs.tender.assets import tender_documents

MAIL_TO_CARDS = dg.AssetSelection.assets(
    raw_emails, email_predictions, tender_documents
) | dg.AssetSelection.assets(pebble_dbt_cards)
ERP_REFRESH = dg.AssetSelection.assets(raw_tally, raw_focus) | dg.AssetSelection.assets(
    pebble_dbt_warehouse
)

mail_to_cards = dg.define_asset_job(
    "mail_to_cards",
    selection=MAIL_TO_CARDS,
    description="Land mail (drop folder, IMAP) into raw.emails, score it (stream, intent, "
    "entities, company link), read the tender notices attached to tender mail, and build "
    "the models the Kanban cards need "
    "(pebble_dbt_cards) up to marts.email_cards. Reads no ERP landing.",
    tags={SOURCE: "mail", MAIL: "land"},
)

erp_refresh = dg.define_asset_job(
    "erp_refresh",
    selection=ERP_REFRESH,
    description="Pull Tally and Focus RT, then build the warehouse step "
    "(pebble_dbt_warehouse): ERP staging and marts, the CRM master, the activity stream. "
    "When one ERP is down its landing fails and the step waits for the next run; the "
    "declarative automation then refreshes the models of the other ERP.",
    tags={SOURCE: "erp", TALLY: "pull", WAREHOUSE: "build"},
)

nightly_full = dg.define_asset_job(
    "nightly_full",
    selection=dg.AssetSelection.all(),
    description="Everything: every landing, the classifier (retrained only when its inputs "
    "changed), scoring, and both dbt steps with a plain `dbt build` (incremental models "
    "are never fully refreshed).",
    tags={SOURCE: "all", TALLY: "pull", MAIL: "land", WAREHOUSE: "build", UNIT_TESTS_TAG: "true"},
)
