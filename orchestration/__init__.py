"""Pebble's Dagster code location."""
