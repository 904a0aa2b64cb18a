"""Run tags the run coordinator limits to one run at a time (dagster.yaml, by key, whatever
the value): a run that pulls Tally (it answers one request at a time); a run that lands
or scores mail (the drop ledger, IMAP cursors and the embedded vector store admit one
writer); a run that builds the warehouse dbt step (two builds of the incremental activity
stream or of the CRM master at once would race). Every job, and the declarative
automation's sensor, carries the tags of what it touches."""

TALLY = "pebble/tally"
MAIL = "pebble/mail"
WAREHOUSE = "pebble/warehouse"
#: Which source (or named pipeline) a run is for.
SOURCE = "pebble/source"
