"""Backup and restore: a consistent database dump, a manifest of every blob the database
references (with its SHA-256 and size), and, for a local store, a copy of those blobs; restored
only into an empty database and reconciled hash by hash (docs/operations/backup.md)."""
