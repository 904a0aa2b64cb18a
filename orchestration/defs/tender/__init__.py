"""Tender IQ: the tender notices (PDF attachments of tender mail) read into
``raw.tender_documents``; dbt folds them into ``marts.tenders``."""

import dagster as dg

from orchestration.defs.tender import assets

defs = dg.Definitions(assets=[assets.tender_documents])
