"""components domain."""
