"""Local simulators of the systems Pebble reads from (Tally Prime, Focus RT)."""
