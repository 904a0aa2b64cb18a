"""Tally Prime connector: XML export client, streaming parser, records and warehouse landing."""
