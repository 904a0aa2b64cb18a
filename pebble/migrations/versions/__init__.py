"""Migration revisions, applied in ``down_revision`` order (a package so it is installed)."""
