"""What the hub knows of a published file to serve it: a leaf type shared by cache and handlers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StoredFile:
    filename: str
    sha256: str
    size: int
    metadata_sha256: str | None
