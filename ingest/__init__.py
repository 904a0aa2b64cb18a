"""Connectors to real systems: mail, Tally Prime, Focus RT and lead lists (see README.md)."""
