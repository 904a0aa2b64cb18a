"""Ingestion: raw landing assets, their sensors and schedules."""

import dagster as dg

from orchestration.defs.ingest import automation, erp, mail

defs = dg.Definitions.merge(mail.defs, erp.defs, automation.defs)
