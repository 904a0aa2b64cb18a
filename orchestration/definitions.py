"""Entry point of the code location: merges each domain's Definitions and adds the shared
resources and cross-cutting policy in one place."""

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.defs import dbt as dbt_domain
from orchestration.defs import ingest, ml, quality
from orchestration.defs.dbt.project import DBT_EXECUTABLE, dbt_project
from orchestration.resources import WarehouseResource

defs = dg.Definitions.merge(
    ingest.defs,
    dbt_domain.defs,
    ml.defs,
    quality.defs,
    dg.Definitions(
        resources={
            "warehouse": WarehouseResource(),
            "dbt": DbtCliResource(
                project_dir=dbt_project,
                # the dbt installed beside this interpreter, whatever PATH says
                dbt_executable=str(DBT_EXECUTABLE),
            ),
        }
    ),
)
