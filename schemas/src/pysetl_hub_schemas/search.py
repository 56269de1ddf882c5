"""`GET /api/v1/search`: catalog search results."""

from __future__ import annotations

from datetime import datetime

from pysetl_hub_schemas.base import ComponentName, Response, Version
from pysetl_hub_schemas.components import Kind


class SearchHit(Response):
    """One component that matched, described by its latest release."""

    name: ComponentName
    version: Version | None = None
    summary: str | None = None
    kinds: list[Kind] = []
    keywords: list[str] = []
    entry_points: list[str] = []
    requires_python: str | None = None
    pysetl: str | None = None
    pyspark: str | None = None
    license: str | None = None
    verified: bool = False
    yanked: bool = False
    downloads: int = 0
    quality: int = 0
    """The quality score, 0 to 100 (docs/concepts/quality.md)."""
    updated: datetime | None = None
    exact: bool = False
    score: float = 0.0
    highlights: dict[str, str] = {}
    explain: str | None = None


class SearchResults(Response):
    """One page of search hits, best first."""

    query: str
    hits: list[SearchHit]
    total: int
    page: int
    per_page: int
    facets: dict[str, dict[str, int]] = {}
    corrected_query: str | None = None
    engine: str = ""
