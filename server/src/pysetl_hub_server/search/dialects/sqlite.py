"""SQLite: an FTS5 table beside `search_docs` (porter stemming, prefix indexes), ranked by
bm25 with the field weights. FTS5 keeps its own copy of the text, so it is written and
deleted with every document."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_server.search.dialects import Group
from pysetl_hub_server.search.engine import Document
from pysetl_hub_server.search.fields import WEIGHTS, text_fields


class SqliteDialect:
    group_concat = "group_concat(value, ',')"

    async def store(self, session: AsyncSession, docs: Sequence[Document]) -> None:
        await session.execute(
            text(
                "INSERT INTO search_fts(rowid, name, entry_points, text, readme) "
                "VALUES (:id, :n, :e, :b, :r)"
            ),
            [text_fields(d) for d in docs],
        )

    async def delete(self, session: AsyncSession, ids: list[int]) -> None:
        await session.execute(
            text("DELETE FROM search_fts WHERE rowid IN :ids").bindparams(
                bindparam("ids", expanding=True)
            ),
            {"ids": ids},
        )

    async def clear(self, session: AsyncSession) -> None:
        await session.execute(text("DELETE FROM search_fts"))

    def match(
        self, groups: list[Group], clauses: list[tuple[int, ...]]
    ) -> tuple[str, dict[str, Any]]:
        params: dict[str, Any] = {}
        parts = [
            "(" + " OR ".join(f'"{w}"*' if pre else f'"{w}"' for w, pre in group) + ")"
            for group in groups
        ]
        params["fts"] = " OR ".join(
            "(" + " AND ".join(parts[i] for i in clause) + ")" for clause in clauses
        )
        w = ", ".join(str(x) for x in WEIGHTS)
        return (
            f"SELECT rowid AS id, -bm25(search_fts, {w}) AS score "
            "FROM search_fts WHERE search_fts MATCH :fts",
            params,
        )
