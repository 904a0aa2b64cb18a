"""Dagster instance storage that follows Pebble's database resolution.

`dagster.yaml` names these classes instead of a fixed URL, so `dagster dev`, the Dagster
CLI and every run worker find their storage the same way the rest of Pebble finds the
warehouse: ``PEBBLE_DAGSTER_DATABASE_URL``, else a ``<warehouse>_dagster`` database beside
``DATABASE_URL``, else the embedded server under ``$PEBBLE_HOME/pg``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster import Field, StringSource
from dagster._serdes import ConfigurableClassData
from dagster_postgres import DagsterPostgresStorage
from dagster_postgres.event_log import PostgresEventLogStorage
from dagster_postgres.run_storage import PostgresRunStorage
from dagster_postgres.schedule_storage import PostgresScheduleStorage

MODULE = __name__


def _config_schema() -> dict[str, Field]:
    return {"postgres_url": Field(StringSource, is_required=False)}


def _resolved(config_value: Mapping[str, Any]) -> dict[str, Any]:
    from pebble import db

    return {"postgres_url": config_value.get("postgres_url") or db.dagster_url()}


def _resolving(base: type, name: str) -> type:
    """``base`` with no required configuration: its URL comes from Pebble's settings."""

    class Resolving(base):  # type: ignore[misc, valid-type]
        @classmethod
        def config_type(cls) -> dict[str, Field]:
            return _config_schema()

        @classmethod
        def from_config_value(
            cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
        ) -> Any:
            return base.from_config_value(inst_data, _resolved(config_value))

    Resolving.__name__ = Resolving.__qualname__ = name
    return Resolving


# Named here because other processes rebuild them from (module, class name).
PebbleEventLogStorage = _resolving(PostgresEventLogStorage, "PebbleEventLogStorage")
PebbleRunStorage = _resolving(PostgresRunStorage, "PebbleRunStorage")
PebbleScheduleStorage = _resolving(PostgresScheduleStorage, "PebbleScheduleStorage")


class PebbleStorage(DagsterPostgresStorage):
    """Run, event-log and schedule storage in PostgreSQL, located by Pebble's settings."""

    @classmethod
    def config_type(cls) -> dict[str, Field]:
        return _config_schema()

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> DagsterPostgresStorage:
        storage = DagsterPostgresStorage.from_config_value(inst_data, _resolved(config_value))
        # the component storages are rebuilt from this data in other processes
        storage.__class__ = PebbleStorage
        return storage

    def _component(self, name: str) -> ConfigurableClassData | None:
        if self.inst_data is None:
            return None
        return ConfigurableClassData(MODULE, name, self.inst_data.config_yaml)

    @property
    def event_storage_data(self) -> ConfigurableClassData | None:
        return self._component("PebbleEventLogStorage")

    @property
    def run_storage_data(self) -> ConfigurableClassData | None:
        return self._component("PebbleRunStorage")

    @property
    def schedule_storage_data(self) -> ConfigurableClassData | None:
        return self._component("PebbleScheduleStorage")
