"""Cross-cutting protections: rate limits, the read-only switch, headers, secure settings."""
