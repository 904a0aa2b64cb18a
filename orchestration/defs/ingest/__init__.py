"""Ingestion: raw landing assets, their sensors and schedules."""

import dagster as dg

from orchestration.defs.ingest import automation, erp, mail, prelead

defs = dg.Definitions.merge(mail.defs, erp.defs, prelead.defs, automation.defs)
