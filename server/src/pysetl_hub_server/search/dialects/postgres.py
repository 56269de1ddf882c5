"""PostgreSQL: a weighted tsvector column on `search_docs` (A name, B entry points, C summary
and keywords, D README) ranked by ts_rank, plus a pg_trgm index on names for look-alikes, so
every replica shares one index. The text lives in the row, so it goes when the row goes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_server.search.dialects import Group
from pysetl_hub_server.search.engine import Document
from pysetl_hub_server.search.fields import text_fields


class PostgresDialect:
    group_concat = "string_agg(value, ',')"

    async def store(self, session: AsyncSession, docs: Sequence[Document]) -> None:
        await session.execute(
            text(
                "UPDATE search_docs SET tsv = "
                "setweight(to_tsvector('english', :n), 'A') || "
                "setweight(to_tsvector('english', :e), 'B') || "
                "setweight(to_tsvector('english', :b), 'C') || "
                "setweight(to_tsvector('english', :r), 'D') "
                "WHERE component_id = :id"
            ),
            [text_fields(d) for d in docs],
        )

    async def delete(self, session: AsyncSession, ids: list[int]) -> None:
        return None

    async def clear(self, session: AsyncSession) -> None:
        return None

    def match(
        self, groups: list[Group], clauses: list[tuple[int, ...]]
    ) -> tuple[str, dict[str, Any]]:
        params: dict[str, Any] = {}
        parts = [
            "(" + " | ".join(f"{w}:*" if pre else w for w, pre in group) + ")" for group in groups
        ]
        params["tsq"] = " | ".join(
            "(" + " & ".join(parts[i] for i in clause) + ")" for clause in clauses
        )
        return (
            "SELECT component_id AS id, "
            "ts_rank(tsv, to_tsquery('english', :tsq), 1) * 100 AS score "
            "FROM search_docs WHERE tsv @@ to_tsquery('english', :tsq)",
            params,
        )
