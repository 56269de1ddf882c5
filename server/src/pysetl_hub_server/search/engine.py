"""The search engine interface: what an engine indexes and what it is asked.

An engine indexes `Document`s (one per component: its latest release) and answers
`SearchQuery`s with hits, highlights and facet counts. The rules every engine shares are in
`rules.py`; this module is the port the `Hub` is typed by, so it imports no domain code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol

from pysetl_hub_schemas import SearchResults

if TYPE_CHECKING:
    from pysetl_hub_server.search.answers import SearchAnswers

Sort = Literal["relevance", "newest", "name", "quality"]


@dataclass(frozen=True)
class Document:
    """What an engine knows of one component."""

    id: int
    name: str  # normalized
    display_name: str
    version: str | None
    summary: str
    entry_points: list[str]
    keywords: list[str]
    readme: str
    license: str | None
    kinds: list[str]
    verified: bool
    yanked: bool  # every release is yanked
    updated: datetime
    downloads: int
    requires_python: str | None
    pysetl: str | None
    pyspark: str | None
    quality: int = 0  # the stored quality score, 0..100 (quality/)


@dataclass(frozen=True)
class SearchQuery:
    q: str = ""
    kind: str | None = None
    pysetl: str | None = None
    python: str | None = None
    spark: str | None = None
    license: str | None = None
    keywords: tuple[str, ...] = ()
    verified: bool | None = None
    min_quality: int | None = None
    include_yanked: bool = False
    sort: Sort = "relevance"
    page: int = 1
    per_page: int = 20
    explain: bool = False
    platforms: dict[str, tuple[str, ...]] = field(default_factory=dict)  # facet versions


class SearchEngine(Protocol):
    """One search backend. `index` replaces a component's entry; `remove` drops it.
    `answers` keeps finished answers while the index is unchanged (None: the engine cannot
    tell when it changes, and nothing is kept)."""

    name: str

    @property
    def answers(self) -> SearchAnswers | None: ...

    async def start(self) -> None: ...

    async def ping(self) -> None:
        """Raise when the engine cannot answer: the readiness probe, which must stay cheap
        (a search of everything ranks and counts the whole catalogue)."""

    async def index(self, docs: Sequence[Document]) -> None: ...

    async def remove(self, names: Sequence[str]) -> None: ...

    async def clear(self) -> None: ...

    async def search(self, query: SearchQuery) -> SearchResults: ...

    async def close(self) -> None: ...
