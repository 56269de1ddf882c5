"""Download statistics read back: a component's series and totals, and what is trending."""
