"""Entry point of the code location: one ``Definitions`` per source system (each with its
landing asset, checks, resources and its sensors), ML, the tender notices, dbt, the
pipelines across them (the named jobs ``mail_to_cards``, ``erp_refresh`` and
``nightly_full``, their schedules, the declarative automation and the freshness checks),
and the resources every domain shares."""

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.defs import dbt, focus, mail, ml, pipelines, prelead, qc, tally, tender
from orchestration.defs.dbt.project import DBT_EXECUTABLE, dbt_project
from orchestration.landing import shared_table_specs
from orchestration.resources import WarehouseResource

defs = dg.Definitions.merge(
    mail.defs,
    tally.defs,
    focus.defs,
    prelead.defs,
    ml.defs,
    tender.defs,
    dbt.defs,
    qc.defs,
    pipelines.defs,
    dg.Definitions(
        assets=shared_table_specs(),
        resources={
            "warehouse": WarehouseResource(),
            "dbt": DbtCliResource(
                project_dir=dbt_project,
                # the dbt installed beside this interpreter, whatever PATH says
                dbt_executable=str(DBT_EXECUTABLE),
            ),
        },
    ),
)
