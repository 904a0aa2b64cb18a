"""Pebble Orchestrator: core settings, database resolution and the `pebble` command."""
