"""The typo vocabulary: catalog words and distinct specifiers, held per process.

Typos are fixed before the query runs, so the catalog's words must be at hand without a query
of their own: they are read once, then re-read only when the version row says the index
changed (here or in another process), in the background while queries use the previous facts.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pysetl_hub_schemas import PLATFORMS, PYSETL, PYTHON, SPARK
from pysetl_hub_server.db import models
from pysetl_hub_server.search.engine import Document
from pysetl_hub_server.search.fields import CAMEL
from pysetl_hub_server.search.rules import words

log = logging.getLogger(__name__)
STAMP_EVERY = 0.5  # seconds between checks that the index changed


@dataclass
class Catalog:
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


class Vocabulary:
    """The cached `Catalog` of one engine, and when to check that it is still current."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._catalog: Catalog | None = None
        self._refresh: asyncio.Task[None] | None = None
        self._checked = 0.0
        self._first = asyncio.Lock()
        self.reads = 0  # full reads of the catalog, for tests and metrics
        self._seen = 0  # the index version last read (kept search answers are keyed by it)

    async def close(self) -> None:
        if self._refresh is not None:
            await self._refresh

    def learn(self, docs: Sequence[Document]) -> None:
        """Words indexed here count at once; the version row is checked at the next query."""
        if self._catalog is not None:
            self._catalog.learn(docs)
        self.recheck()

    def recheck(self) -> None:
        """The index changed here: check at the next query rather than after `STAMP_EVERY`."""
        self._checked = 0.0

    def stamp(self) -> int | None:
        """The index version of the cached catalog, without I/O; schedules the once-a-second
        check that it is still current (as `load` does), so answers kept by it age out."""
        if self._catalog is None:
            return None
        self._due()
        return self._seen

    def _due(self) -> None:
        now = time.monotonic()
        if now - self._checked >= STAMP_EVERY and self._refresh is None:
            self._checked = now
            self._refresh = asyncio.create_task(self._refresh_catalog())

    async def load(self, session: AsyncSession) -> Catalog:
        """The cached catalog facts. At most every `STAMP_EVERY` seconds a one-row query checks
        whether the index changed (here or in another process); a changed index is re-read in
        the background while queries go on with the previous facts."""
        cat = self._catalog
        if cat is None:
            # Single flight: the first requests after a start wait for one read, rather than
            # each building the whole vocabulary again.
            async with self._first:
                if self._catalog is None:
                    return await self._read(session)
                return self._catalog
        self._due()
        return cat

    async def _refresh_catalog(self) -> None:
        try:
            async with self._sessions() as session:
                cat = self._catalog
                version = await read_version(session)
                # Kept answers go at once; the words follow when the re-read is done.
                self._seen = version
                if cat is None or version != cat.stamp:
                    await self._read(session)
        except Exception:  # the next check retries; queries go on with what they have
            log.warning("search vocabulary refresh failed", exc_info=True)
        finally:
            self._refresh = None

    async def _read(self, session: AsyncSession) -> Catalog:
        self.reads += 1
        stamp = await read_version(session)
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
        self._seen = max(self._seen, stamp)
        return cat


async def read_version(session: AsyncSession) -> int:
    version = await session.scalar(
        select(models.SearchVersion.version).where(models.SearchVersion.id == 1)
    )
    return int(version or 0)


async def bump_version(session: AsyncSession) -> None:
    """Every write moves the version row, so other processes re-read their vocabulary."""
    await session.execute(
        update(models.SearchVersion)
        .where(models.SearchVersion.id == 1)
        .values(version=models.SearchVersion.version + 1)
    )


def correct(terms: list[str], cat: Catalog) -> tuple[list[str], dict[str, str]]:
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


def doc_words(name: str, eps: str, summary: str, keywords: list[str] | None) -> set[str]:
    out = set(words(name.replace("-", " ")))
    out.update(words(CAMEL.sub(" ", eps)))
    out.update(words(eps))
    out.update(words(summary))
    for k in keywords or []:
        out.update(words(k))
    return out


def _build_catalog(rows: list[Any], stamp: int) -> Catalog:
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
    return Catalog(
        time.monotonic(),
        ordered,
        vocab,
        {k: list(v) for k, v in specs.items()},
        by_length,
        stamp=stamp,
    )


def _has_prefix(vocabulary: list[str], prefix: str) -> bool:
    i = bisect.bisect_left(vocabulary, prefix)
    return i < len(vocabulary) and vocabulary[i].startswith(prefix)
