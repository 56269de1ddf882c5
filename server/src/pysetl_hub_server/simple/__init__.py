"""simple domain."""
