"""Machine learning: classification, extraction and embedding of landed emails."""

import dagster as dg

defs = dg.Definitions()
