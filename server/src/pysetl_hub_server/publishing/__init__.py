"""publishing domain."""
