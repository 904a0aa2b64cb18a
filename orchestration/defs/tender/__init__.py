"""Tender IQ: the tender notices (PDF attachments of tender mail) read into
``raw.tender_documents``, with its data-quality suite; dbt folds them into ``marts.tenders``."""

import dagster as dg

from orchestration.checks import suite_checks
from orchestration.defs.tender import assets
from orchestration.defs.tender.checks import SUITES

defs = dg.Definitions(assets=[assets.tender_documents], asset_checks=suite_checks(SUITES))
