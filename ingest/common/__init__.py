"""What every connector shares: staged COPY and merge, the rejects table, the content store,
HTTP retry settings and circuit breaker, cursors, and the LandReport every sync returns."""
