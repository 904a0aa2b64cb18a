"""One folder per source system (mail, tally, focus, prelead: landing asset, checks,
resources, sensors), plus ml, dbt and the pipelines across them (named jobs, schedules,
declarative automation, freshness checks); each exposes `defs: dagster.Definitions`."""
