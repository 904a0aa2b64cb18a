"""dbt: every model is an asset downstream of the raw tables it reads; dbt tests are checks."""

import dagster as dg

from orchestration.defs.dbt.assets import pebble_dbt_models

defs = dg.Definitions(assets=[pebble_dbt_models])
