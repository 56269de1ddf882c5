"""The built-in engine: full-text search in the main database, nothing to install.

Documents and tags are plain tables; the weighted text is per dialect (`dialects/`: an FTS5
table on SQLite, a tsvector and pg_trgm on PostgreSQL, so every replica shares one index),
field weights name 10 > entry points 6 > summary and keywords 3 > README 1 (`fields`).
Typos are fixed before the query runs: a query word the catalog does not contain is replaced
by the closest catalog word within one or two edits (`vocabulary`). Filters, ranking and
facets are one SQL statement per attempt (`query`).
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pysetl_hub_schemas import PLATFORMS, SearchHit, SearchResults
from pysetl_hub_server.db import models
from pysetl_hub_server.search import query as sql
from pysetl_hub_server.search.answers import SearchAnswers
from pysetl_hub_server.search.dialects import Dialect
from pysetl_hub_server.search.dialects.postgres import PostgresDialect
from pysetl_hub_server.search.dialects.sqlite import SqliteDialect
from pysetl_hub_server.search.engine import Document, SearchQuery
from pysetl_hub_server.search.rules import exact_name, highlight, version_facets, words
from pysetl_hub_server.search.synonyms import expand
from pysetl_hub_server.search.vocabulary import (
    Catalog,
    Vocabulary,
    bump_version,
    correct,
    read_version,
)


class BuiltinEngine:
    name = "builtin"

    def __init__(self, sessions: async_sessionmaker[AsyncSession], dialect: str) -> None:
        self._sessions = sessions
        self._dialect: Dialect = PostgresDialect() if dialect == "postgresql" else SqliteDialect()
        self._vocabulary = Vocabulary(sessions)
        self._writes = 0  # moves on every write here, so a racing read is not kept
        # Finished answers by query, valid while the index version they were read at is
        # current: the same queries come again and again (search as you type, popular words).
        # The one layer of kept answers: the web's search pages keep their own HTML.
        self.answers = SearchAnswers(self.version)

    async def start(self) -> None:
        """Read the vocabulary before the process serves: the first search (the readiness
        probe runs one) would otherwise read every document after start-up, on the serving
        path, and its 100k rows would land in the collector's oldest generation after
        `serve` froze the start-up heap (app.freeze_heap)."""
        async with self._sessions() as session:
            await self._vocabulary.load(session)

    async def ping(self) -> None:
        async with self._sessions() as session:
            await read_version(session)

    async def close(self) -> None:
        await self._vocabulary.close()

    # -- writing --------------------------------------------------------------------------------

    async def index(self, docs: Sequence[Document]) -> None:
        if not docs:
            return
        async with self._sessions() as session, session.begin():
            await bump_version(session)
            ids = [d.id for d in docs]
            await self._delete(session, ids)
            await session.execute(
                insert(models.SearchDoc),
                [
                    {
                        "component_id": d.id,
                        "name": d.name,
                        "display_name": d.display_name,
                        "version": d.version,
                        "summary": d.summary,
                        "entry_points": " ".join(d.entry_points),
                        "keywords": d.keywords,
                        "readme": d.readme,
                        "license": d.license,
                        "verified": d.verified,
                        "yanked": d.yanked,
                        "updated": d.updated,
                        "downloads": d.downloads,
                        "requires_python": d.requires_python,
                        "pysetl": d.pysetl,
                        "pyspark": d.pyspark,
                        "quality": d.quality,
                    }
                    for d in docs
                ],
            )
            tags = [
                {"component_id": d.id, "facet": facet, "value": value[:128]}
                for d in docs
                for facet, values in (("kind", d.kinds), ("keyword", d.keywords))
                for value in dict.fromkeys(values)
            ]
            if tags:
                await session.execute(insert(models.SearchTag), tags)
            await self._dialect.store(session, docs)
        self._changed()
        self._vocabulary.learn(docs)

    def version(self) -> Hashable | None:
        """The version token of kept answers: the index version the vocabulary last saw (it
        checks again at most every second, here or in another process) and the writes made
        here. None until the vocabulary is read."""
        stamp = self._vocabulary.stamp()
        return None if stamp is None else (stamp, self._writes)

    def _changed(self) -> None:
        self._writes += 1

    async def _delete(self, session: AsyncSession, ids: list[int]) -> None:
        await session.execute(
            delete(models.SearchTag).where(models.SearchTag.component_id.in_(ids))
        )
        await session.execute(
            delete(models.SearchDoc).where(models.SearchDoc.component_id.in_(ids))
        )
        await self._dialect.delete(session, ids)

    async def remove(self, names: Sequence[str]) -> None:
        if not names:
            return
        async with self._sessions() as session, session.begin():
            await bump_version(session)
            ids = list(
                await session.scalars(
                    select(models.SearchDoc.component_id).where(models.SearchDoc.name.in_(names))
                )
            )
            if ids:
                await self._delete(session, ids)
        self._changed()
        self._vocabulary.recheck()

    async def clear(self) -> None:
        async with self._sessions() as session, session.begin():
            await bump_version(session)
            await session.execute(delete(models.SearchTag))
            await session.execute(delete(models.SearchDoc))
            await self._dialect.clear(session)
        self._changed()
        self._vocabulary.recheck()

    # -- reading --------------------------------------------------------------------------------

    async def search(self, query: SearchQuery) -> SearchResults:
        async with self._sessions() as session:  # no connection until a query runs
            # The vocabulary checks the index version at most every second, here or in
            # another process; kept answers (`answers`) are keyed by it, so they lag a write
            # elsewhere no longer than the vocabulary does.
            cat = await self._vocabulary.load(session)
            return await self._search(session, query, cat)

    async def _search(
        self, session: AsyncSession, query: SearchQuery, cat: Catalog
    ) -> SearchResults:
        raw = words(query.q)
        terms, changes = correct(raw, cat)
        norm = exact_name(query.q)
        filters, params = sql.filters(query, cat)
        params["norm"] = norm
        # A name typed with separators is looked up as written; words get synonyms.
        groups = sql.word_groups(terms, cat, synonyms=not re.search(r"[-_.]", query.q))
        result = None
        attempts = sql.attempts(len(terms)) if terms else [[]]
        for n, clauses in enumerate(attempts):
            match, mparams = self._dialect.match(groups, clauses) if clauses else ("", {})
            if match and n == len(attempts) - 1 and n > 0:
                match = sql.best_matches(match)
            result = await self._run(session, query, match, filters, {**params, **mparams})
            if result[1] > 0:
                break
        assert result is not None
        rows, total, facet_rows = result
        facets = self._facets(facet_rows, query)
        marked = [t for term in terms for t in expand(term)]
        hits = []
        for r in rows:
            hit = SearchHit(
                name=r.display_name,
                version=r.version,
                summary=r.summary,
                kinds=sorted(k for k in (r.kinds or "").split(",") if k),  # type: ignore[misc]
                keywords=list(r.keywords or []),
                entry_points=(r.entry_points or "").split(),
                requires_python=r.requires_python,
                pysetl=r.pysetl,
                pyspark=r.pyspark,
                license=r.license,
                verified=bool(r.verified),
                yanked=bool(r.yanked),
                downloads=int(r.downloads),
                quality=int(r.quality or 0),
                updated=r.updated,
                exact=bool(r.exact),
                score=round(float(r.score), 4),
                highlights={
                    "name": highlight(r.display_name, marked),
                    "summary": highlight(r.summary or "", marked),
                },
                explain=self._explain(r, changes) if query.explain else None,
            )
            hits.append(hit)
        corrected = " ".join(terms) if changes else None
        return SearchResults(
            query=query.q,
            hits=hits,
            total=total,
            page=query.page,
            per_page=query.per_page,
            facets=facets,
            corrected_query=corrected,
            engine=self.name,
        )

    async def _run(
        self,
        session: AsyncSession,
        query: SearchQuery,
        match: str,
        where: list[str],
        params: dict[str, Any],
    ) -> tuple[list[Any], int, list[Any]]:
        every = (
            await session.execute(
                sql.page_and_facets(query, match, where, params),
                {**params, "limit": query.per_page, "offset": (query.page - 1) * query.per_page},
            )
        ).all()
        facet_rows = [r for r in every if r.facet != "hit"]
        ranked = sorted((r for r in every if r.facet == "hit"), key=lambda r: int(r.rk))
        rows: list[Any] = []
        if ranked:
            ids = [int(r.value) for r in ranked]
            docs_sql = sql.documents(self._dialect.group_concat)
            found = {r.component_id: r for r in await session.execute(docs_sql, {"ids": ids})}
            norm = params.get("norm")
            rows = [
                _Row(found[i], float(r.score), found[i].name == norm)
                for i, r in zip(ids, ranked, strict=True)
                if i in found
            ]
        total = sum(int(r.n) for r in facet_rows if r.facet == "license")
        return rows, total, facet_rows

    @staticmethod
    def _facets(rows: list[Any], query: SearchQuery) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {"kind": {}, "license": {}, "verified": {}, "keyword": {}}
        specs: dict[str, dict[str | None, int]] = {p: {} for p in PLATFORMS}
        for r in rows:
            if r.facet.startswith("spec:"):
                specs[r.facet[5:]][r.value or None] = int(r.n)
            elif r.value != "":
                out[r.facet][r.value] = int(r.n)
        top = sorted(out["keyword"].items(), key=lambda kv: (-kv[1], kv[0]))[:20]
        out["keyword"] = dict(top)
        for platform in PLATFORMS:
            versions = query.platforms.get(platform, ())
            out[platform] = version_facets(specs[platform], versions)
        return out

    @staticmethod
    def _explain(row: Any, changes: dict[str, str]) -> str:
        parts = []
        if row.exact:
            parts.append("exact name match: always first")
        else:
            parts.append(
                f"text score {float(row.score):.3f} "
                "(weights: name 10, entry points 6, summary and keywords 3, README 1)"
            )
        if changes:
            parts.append("typo fixes: " + ", ".join(f"{a}->{b}" for a, b in changes.items()))
        parts.append(f"ties: downloads {int(row.downloads)}, updated {row.updated}")
        return "; ".join(parts)


class _Row:
    """A hit: the stored document's columns, its score and whether it is the exact name."""

    def __init__(self, row: Any, score: float, exact: bool) -> None:
        self._row, self.score, self.exact = row, score, exact

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, name)
