"""Signed provenance: trusted publishers, attestation checks at upload, the integrity API."""
