"""files domain."""
