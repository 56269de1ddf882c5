"""Security advisories (OSV): publishing, withdrawing, the OSV query API."""
