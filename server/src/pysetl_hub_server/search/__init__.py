"""Catalog search."""
