"""Read-only mirrors: follow an origin hub's signed change feed into a hub of one's own."""
