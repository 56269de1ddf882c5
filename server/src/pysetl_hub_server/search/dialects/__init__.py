"""What the built-in engine does differently on SQLite and on PostgreSQL.

Only where the weighted text lives, how a word query matches and scores it, and one
aggregate's spelling differ; everything else (documents, tags, filters, facets) is SQL both
databases run as written, so it stays out of the dialects.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_server.search.engine import Document

# A query word and its synonyms, any of which may match; `True` marks a word matched as a
# prefix (the word being typed, or one the catalog does not contain).
Group = list[tuple[str, bool]]


class Dialect(Protocol):
    """The full-text side of one database. Called inside the engine's write transaction."""

    group_concat: str  # SQL joining the `value`s of a group with commas

    async def store(self, session: AsyncSession, docs: Sequence[Document]) -> None:
        """Write the weighted text of `docs`, whose `search_docs` rows were just inserted."""
        ...

    async def delete(self, session: AsyncSession, ids: list[int]) -> None:
        """Drop the text of the components `ids`, whose rows are being deleted."""
        ...

    async def clear(self, session: AsyncSession) -> None:
        """Drop all text, as `search_docs` is being emptied."""
        ...

    def match(
        self, groups: list[Group], clauses: list[tuple[int, ...]]
    ) -> tuple[str, dict[str, Any]]:
        """SQL yielding (id, score) for documents matching any of `clauses`, each an AND of
        word groups (by index)."""
        ...
