"""One folder per domain; each exposes a small `defs: dagster.Definitions`."""
