"""Schema revisions, oldest first: 0001 the initial catalog, then one file per change."""
