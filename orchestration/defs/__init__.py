"""One folder per source system (mail, tally, focus, prelead: landing asset, checks,
resources, schedules, sensors), plus ml and dbt; each exposes `defs: dagster.Definitions`."""
