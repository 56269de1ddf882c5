"""The built-in engine: full-text search in the main database, nothing to install.

SQLite: an FTS5 table (porter stemming, prefix indexes) ranked by bm25 with field weights
name 10 > entry points 6 > summary and keywords 3 > README 1. PostgreSQL: a weighted tsvector
(A name, B entry points, C summary and keywords, D README) ranked by ts_rank, plus a pg_trgm
index on names for look-alikes, so every replica shares one index.

Typos are fixed before the query runs: a query word the catalog does not contain is replaced
by the closest catalog word within one or two edits (rapidfuzz over an in-memory vocabulary).
Facet counts and filters are SQL over the matched set; compatibility filters keep the stored
PEP 440 specifiers that admit the requested version.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from sqlalchemy import JSON, Boolean, bindparam, delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pysetl_hub_schemas import PLATFORMS, PYSETL, PYTHON, SPARK, SearchHit, SearchResults
from pysetl_hub_server.db import models
from pysetl_hub_server.search.engine import (
    Document,
    SearchQuery,
    admitted_specs,
    exact_name,
    highlight,
    version_facets,
    words,
)
from pysetl_hub_server.search.synonyms import expand

log = logging.getLogger(__name__)
WEIGHTS = (10.0, 6.0, 3.0, 1.0)
FALLBACK_LIMIT = 200  # name, entry points, summary+keywords, readme
STAMP_EVERY = 1.0  # seconds between checks that the index changed
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
SPEC_COLUMNS = {PYTHON: "requires_python", PYSETL: "pysetl", SPARK: "pyspark"}


def name_text(doc: Document) -> str:
    """`csv-dedupe` is found as `csv`, `dedupe` and `csvdedupe`."""
    parts = re.split(r"[-_.]+", doc.name)
    return " ".join([*parts, "".join(parts)])


def entry_text(doc: Document) -> str:
    """`CsvDedupe` is found as `csvdedupe`, `csv` and `dedupe`."""
    out = []
    for ep in doc.entry_points:
        out.append(ep)
        out.extend(_CAMEL.sub(" ", ep).replace("_", " ").split())
    return " ".join(out)


def body_text(doc: Document) -> str:
    return " ".join([doc.summary, *doc.keywords])


def text_fields(doc: Document) -> dict[str, Any]:
    """The four weighted fields of a document (name, entry points, body, README)."""
    return {
        "id": doc.id,
        "n": name_text(doc),
        "e": entry_text(doc),
        "b": body_text(doc),
        "r": doc.readme,
    }


@dataclass
class _Catalog:
    """Per-process view of slow-changing catalog facts: vocabulary and distinct specifiers."""

    loaded: float
    vocabulary: list[str]
    vocab_set: set[str]
    specs: dict[str, list[str | None]]
    by_length: dict[int, list[str]] = field(default_factory=dict)
    corrections: dict[str, str | None] = field(default_factory=dict)
    stamp: int = 0

    def learn(self, docs: Sequence[Document]) -> None:
        """Add the words of documents this process just indexed, so a new word is never
        "corrected" into an old one while a full re-read is pending."""
        for d in docs:
            for w in doc_words(d.name, " ".join(d.entry_points), d.summary, d.keywords):
                if w not in self.vocab_set:
                    self.vocab_set.add(w)
                    bisect.insort(self.vocabulary, w)
                    self.by_length.setdefault(len(w), []).append(w)
            for platform, spec in (
                (PYTHON, d.requires_python),
                (PYSETL, d.pysetl),
                (SPARK, d.pyspark),
            ):
                if spec not in self.specs[platform]:
                    self.specs[platform].append(spec)
        self.corrections.clear()

    def near(self, word: str, edits: int) -> list[str]:
        """Catalog words whose length is within `edits` of the word's: the only candidates."""
        return [
            w
            for n in range(len(word) - edits, len(word) + edits + 1)
            for w in self.by_length.get(n, [])
        ]


class BuiltinEngine:
    name = "builtin"

    def __init__(self, sessions: async_sessionmaker[AsyncSession], dialect: str) -> None:
        self._sessions = sessions
        self._pg = dialect == "postgresql"
        self._catalog: _Catalog | None = None
        self._refresh: asyncio.Task[None] | None = None
        self._checked = 0.0

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        if self._refresh is not None:
            await self._refresh

    # -- writing --------------------------------------------------------------------------------

    async def index(self, docs: Sequence[Document]) -> None:
        if not docs:
            return
        async with self._sessions() as session, session.begin():
            await self._bump(session)
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
            if self._pg:
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
            else:
                await session.execute(
                    text(
                        "INSERT INTO search_fts(rowid, name, entry_points, text, readme) "
                        "VALUES (:id, :n, :e, :b, :r)"
                    ),
                    [text_fields(d) for d in docs],
                )
        if self._catalog is not None:
            self._catalog.learn(docs)
        self._checked = 0.0

    async def _delete(self, session: AsyncSession, ids: list[int]) -> None:
        await session.execute(
            delete(models.SearchTag).where(models.SearchTag.component_id.in_(ids))
        )
        await session.execute(
            delete(models.SearchDoc).where(models.SearchDoc.component_id.in_(ids))
        )
        if not self._pg:
            await session.execute(
                text("DELETE FROM search_fts WHERE rowid IN :ids").bindparams(
                    bindparam("ids", expanding=True)
                ),
                {"ids": ids},
            )

    async def remove(self, names: Sequence[str]) -> None:
        if not names:
            return
        async with self._sessions() as session, session.begin():
            await self._bump(session)
            ids = list(
                await session.scalars(
                    select(models.SearchDoc.component_id).where(models.SearchDoc.name.in_(names))
                )
            )
            if ids:
                await self._delete(session, ids)
        self._checked = 0.0

    async def clear(self) -> None:
        async with self._sessions() as session, session.begin():
            await self._bump(session)
            await session.execute(delete(models.SearchTag))
            await session.execute(delete(models.SearchDoc))
            if not self._pg:
                await session.execute(text("DELETE FROM search_fts"))
        self._checked = 0.0

    # -- reading --------------------------------------------------------------------------------

    async def _load_catalog(self, session: AsyncSession) -> _Catalog:
        """The cached catalog facts. At most every `STAMP_EVERY` seconds a one-row query checks
        whether the index changed (here or in another process); a changed index is re-read in
        the background while queries go on with the previous facts."""
        cat = self._catalog
        if cat is None:
            return await self._read_catalog(session)
        now = time.monotonic()
        if now - self._checked >= STAMP_EVERY and self._refresh is None:
            self._checked = now
            self._refresh = asyncio.create_task(self._refresh_catalog())
        return cat

    @staticmethod
    async def _stamp(session: AsyncSession) -> int:
        version = await session.scalar(
            select(models.SearchVersion.version).where(models.SearchVersion.id == 1)
        )
        return int(version or 0)

    @staticmethod
    async def _bump(session: AsyncSession) -> None:
        await session.execute(
            update(models.SearchVersion)
            .where(models.SearchVersion.id == 1)
            .values(version=models.SearchVersion.version + 1)
        )

    async def _refresh_catalog(self) -> None:
        try:
            async with self._sessions() as session:
                cat = self._catalog
                if cat is None or await self._stamp(session) != cat.stamp:
                    await self._read_catalog(session)
        except Exception:  # the next check retries; queries go on with what they have
            log.warning("search vocabulary refresh failed", exc_info=True)
        finally:
            self._refresh = None

    async def _read_catalog(self, session: AsyncSession) -> _Catalog:
        stamp = await self._stamp(session)
        rows = (
            await session.execute(
                select(
                    models.SearchDoc.name,
                    models.SearchDoc.entry_points,
                    models.SearchDoc.summary,
                    models.SearchDoc.keywords,
                    models.SearchDoc.requires_python,
                    models.SearchDoc.pysetl,
                    models.SearchDoc.pyspark,
                )
            )
        ).all()
        # The word splitting is CPU work: off the event loop, so queries keep flowing.
        cat = await asyncio.to_thread(_build_catalog, list(rows), stamp)
        self._catalog = cat
        return cat

    @staticmethod
    def correct(terms: list[str], cat: _Catalog) -> tuple[list[str], dict[str, str]]:
        """Replace unknown words by the nearest catalog word (1 edit up to 5 letters, else 2)."""
        fixed, changes = [], {}
        for t in terms:
            if t in cat.vocab_set or len(t) < 4 or t.isdigit():
                fixed.append(t)
                continue
            if _has_prefix(cat.vocabulary, t):
                fixed.append(t)  # a prefix of a real word: search-as-you-type, not a typo
                continue
            if t not in cat.corrections:
                limit = 1 if len(t) <= 5 else 2
                best = process.extractOne(
                    t, cat.near(t, limit), scorer=Levenshtein.distance, score_cutoff=limit
                )
                cat.corrections[t] = best[0] if best else None
            found = cat.corrections[t]
            fixed.append(found or t)
            if found:
                changes[t] = found
        return fixed, changes

    def _match_sql(
        self, groups: list[list[tuple[str, bool]]], clauses: list[tuple[int, ...]]
    ) -> tuple[str, dict[str, Any]]:
        """SQL yielding (id, score) for documents matching any of `clauses`, each an AND of
        word groups (by index). A group is a word and its synonyms, any of which may match;
        `True` marks a word matched as a prefix (the word being typed, or one the catalog does
        not contain)."""
        params: dict[str, Any] = {}
        if self._pg:
            parts = [
                "(" + " | ".join(f"{w}:*" if pre else w for w, pre in group) + ")"
                for group in groups
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

    @staticmethod
    def _attempts(n: int) -> list[list[tuple[int, ...]]]:
        """All words; then all but one (for up to 5 words); then any word."""
        every = tuple(range(n))
        attempts = [[every]]
        if 3 <= n <= 5:
            attempts.append(list(itertools.combinations(every, n - 1)))
        if n >= 2:
            attempts.append([(i,) for i in every])
        return attempts

    @staticmethod
    def _groups(terms: list[str], cat: _Catalog, synonyms: bool) -> list[list[tuple[str, bool]]]:
        """Per query word: the word (a prefix when being typed or unknown) and its synonyms."""
        groups = []
        for i, term in enumerate(terms):
            typing = i == len(terms) - 1 or term not in cat.vocab_set
            alternatives = expand(term)[1:] if synonyms else []
            groups.append([(term, typing)] + [(syn, False) for syn in alternatives])
        return groups

    async def search(self, query: SearchQuery) -> SearchResults:
        async with self._sessions() as session:
            cat = await self._load_catalog(session)
            raw = words(query.q)
            terms, changes = self.correct(raw, cat)
            norm = exact_name(query.q)
            filters, params = self._filters(query, cat)
            params["norm"] = norm
            # A name typed with separators is looked up as written; words get synonyms.
            groups = self._groups(terms, cat, synonyms=not re.search(r"[-_.]", query.q))
            result = None
            attempts = self._attempts(len(terms)) if terms else [[]]
            for n, clauses in enumerate(attempts):
                match, mparams = self._match_sql(groups, clauses) if clauses else ("", {})
                if match and n == len(attempts) - 1 and n > 0:
                    # The any-word fallback can match most of the catalog: rank, count and
                    # facet its best FALLBACK_LIMIT matches only.
                    match = f"SELECT * FROM ({match} ORDER BY score DESC LIMIT {FALLBACK_LIMIT}) fb"
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

    def _filters(self, query: SearchQuery, cat: _Catalog) -> tuple[list[str], dict[str, Any]]:
        where: list[str] = []
        params: dict[str, Any] = {}
        if query.kind:
            where.append(
                "EXISTS (SELECT 1 FROM search_tags t WHERE t.component_id = d.component_id "
                "AND t.facet = 'kind' AND t.value = :kind)"
            )
            params["kind"] = query.kind
        for i, kw in enumerate(query.keywords):
            where.append(
                "EXISTS (SELECT 1 FROM search_tags t WHERE t.component_id = d.component_id "
                f"AND t.facet = 'keyword' AND t.value = :kw{i})"
            )
            params[f"kw{i}"] = kw.lower()
        if query.license:
            where.append("lower(d.license) = :license")
            params["license"] = query.license.lower()
        if query.verified is not None:
            where.append("d.verified = :verified")
            params["verified"] = query.verified
        if not query.include_yanked:
            where.append("d.yanked = :no")
            params["no"] = False
        for platform, column in SPEC_COLUMNS.items():
            specs = admitted_specs(cat.specs[platform], getattr(query, platform))
            if specs is None:
                continue
            listed = [s for s in specs if s is not None]
            clause = f"d.{column} IS NULL"
            if listed:
                key = f"specs_{platform}"
                clause = f"({clause} OR d.{column} IN :{key})"
                params[key] = listed
            where.append(clause)
        return where, params

    async def _run(
        self,
        session: AsyncSession,
        query: SearchQuery,
        match: str,
        where: list[str],
        params: dict[str, Any],
    ) -> tuple[list[Any], int, list[Any]]:
        if match:
            best = (
                f"WITH matched AS ({match} UNION ALL SELECT component_id AS id, 1000000.0 "
                "FROM search_docs WHERE name = :norm), "
                "best AS (SELECT id, max(score) AS score FROM matched GROUP BY id)"
            )
        else:
            best = "WITH best AS (SELECT component_id AS id, 0.0 AS score FROM search_docs)"
        agg = "string_agg(value, ',')" if self._pg else "group_concat(value, ',')"
        kinds = (
            f"(SELECT {agg} FROM search_tags t "
            "WHERE t.component_id = d.component_id AND t.facet = 'kind')"
        )
        # SQLite plans joins without knowing the match is small; CROSS JOIN keeps it driving
        # (PostgreSQL has statistics and reorders a CROSS JOIN + WHERE freely).
        join = "CROSS JOIN"
        conditions = ["d.component_id = b.id", *where]
        # Only the small columns, computed once (MATERIALIZED: both SQLite and PostgreSQL
        # would otherwise repeat the join for each facet).
        filtered = (
            f"{best}, filtered AS MATERIALIZED (SELECT d.component_id, d.name, d.license, "
            "d.verified, d.updated, d.downloads, d.requires_python, d.pysetl, d.pyspark, "
            "b.score AS score, "
            f"CASE WHEN d.name = :norm THEN 1 ELSE 0 END AS exact "
            f"FROM best b {join} search_docs d WHERE " + " AND ".join(conditions) + ")"
        )
        order = {
            "relevance": "exact DESC, score DESC, downloads DESC, updated DESC, name",
            "newest": "updated DESC, name",
            "name": "name",
        }[query.sort]
        expanding: list[Any] = [
            bindparam(k, expanding=True) for k, v in params.items() if isinstance(v, list)
        ]
        verified = "CASE WHEN verified THEN 'true' ELSE 'false' END"
        # One statement, so the text match runs once: the page of hits (ids in rank order,
        # facet 'hit') and every facet count over the whole filtered match.
        one_sql = text(
            f"{filtered} "
            "SELECT 'hit' AS facet, CAST(component_id AS TEXT) AS value, 0 AS n, "
            "score AS score, rk AS rk FROM (SELECT component_id, score, "
            f"row_number() OVER (ORDER BY {order}) AS rk FROM filtered) ranked "
            "WHERE rk > :offset AND rk <= :offset + :limit "
            "UNION ALL SELECT 'kind', t.value, count(*), 0, 0 FROM filtered f "
            f"{join} search_tags t WHERE t.component_id = f.component_id AND t.facet = 'kind' "
            "GROUP BY t.value "
            "UNION ALL SELECT 'keyword', t.value, count(*), 0, 0 FROM filtered f "
            f"{join} search_tags t WHERE t.component_id = f.component_id AND t.facet = 'keyword' "
            "GROUP BY t.value "
            "UNION ALL SELECT 'license', coalesce(license, ''), count(*), 0, 0 FROM filtered "
            "GROUP BY coalesce(license, '') "
            f"UNION ALL SELECT 'verified', {verified}, count(*), 0, 0 FROM filtered "
            f"GROUP BY {verified} "
            "UNION ALL SELECT 'spec:python', coalesce(requires_python, ''), count(*), 0, 0 "
            "FROM filtered GROUP BY coalesce(requires_python, '') "
            "UNION ALL SELECT 'spec:pysetl', coalesce(pysetl, ''), count(*), 0, 0 "
            "FROM filtered GROUP BY coalesce(pysetl, '') "
            "UNION ALL SELECT 'spec:spark', coalesce(pyspark, ''), count(*), 0, 0 "
            "FROM filtered GROUP BY coalesce(pyspark, '')"
        ).bindparams(*expanding)
        every = (
            await session.execute(
                one_sql,
                {**params, "limit": query.per_page, "offset": (query.page - 1) * query.per_page},
            )
        ).all()
        facet_rows = [r for r in every if r.facet != "hit"]
        ranked = sorted((r for r in every if r.facet == "hit"), key=lambda r: int(r.rk))
        rows: list[Any] = []
        if ranked:
            ids = [int(r.value) for r in ranked]
            docs_sql = (
                text(
                    f"SELECT d.*, {kinds} AS kinds FROM search_docs d WHERE d.component_id IN :ids"
                )
                .bindparams(bindparam("ids", expanding=True))
                .columns(
                    updated=models.UTCDateTime(),
                    keywords=JSON(),
                    verified=Boolean(),
                    yanked=Boolean(),
                )
            )
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


def doc_words(name: str, eps: str, summary: str, keywords: list[str] | None) -> set[str]:
    out = set(words(name.replace("-", " ")))
    out.update(words(_CAMEL.sub(" ", eps)))
    out.update(words(eps))
    out.update(words(summary))
    for k in keywords or []:
        out.update(words(k))
    return out


def _build_catalog(rows: list[Any], stamp: int) -> _Catalog:
    vocab: set[str] = set()
    specs: dict[str, set[str | None]] = {p: set() for p in PLATFORMS}
    for name, eps, summary, keywords, py, pysetl, spark in rows:
        vocab.update(doc_words(name, eps, summary, keywords))
        specs[PYTHON].add(py)
        specs[PYSETL].add(pysetl)
        specs[SPARK].add(spark)
    ordered = sorted(vocab)
    by_length: dict[int, list[str]] = {}
    for w in ordered:
        by_length.setdefault(len(w), []).append(w)
    return _Catalog(
        time.monotonic(),
        ordered,
        vocab,
        {k: list(v) for k, v in specs.items()},
        by_length,
        stamp=stamp,
    )


def _has_prefix(vocabulary: list[str], prefix: str) -> bool:
    import bisect

    i = bisect.bisect_left(vocabulary, prefix)
    return i < len(vocabulary) and vocabulary[i].startswith(prefix)
