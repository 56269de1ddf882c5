"""A first search over the catalog: exact name first, then name, entry-point and text matches.

Scoring is plain and explainable: an exact normalized name always wins, then a name prefix,
a name substring, an entry-point name, then summary/keyword words. It runs over the latest
release of each component in memory, which is fine for the catalog sizes of a young hub;
a full-text engine can replace `rank` behind the same `search` call.
"""

from __future__ import annotations

import re

from packaging.utils import canonicalize_name
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from pysetl_hub_schemas import SearchHit, SearchResults
from pysetl_hub_server.components.services import latest_release
from pysetl_hub_server.db import models
from pysetl_hub_server.errors import BadRequest

_WORD = re.compile(r"[a-z0-9]+")


def rank(query: str, name: str, release: models.Release) -> float:
    """The score of one component for `query`; 0 means no match."""
    q = canonicalize_name(query)
    n = canonicalize_name(name)
    words = set(_WORD.findall(query.lower()))
    if not q:
        return 1.0  # an empty query lists everything
    score = 0.0
    if n == q:
        score += 1000
    elif n.startswith(q):
        score += 200
    elif q in n:
        score += 100
    entry_names = {canonicalize_name(e["name"]) for e in release.entry_points or []}
    if q in entry_names:
        score += 80
    elif any(q in e for e in entry_names):
        score += 40
    name_words = set(_WORD.findall(n))
    text = " ".join([release.summary or "", " ".join(release.keywords or [])]).lower()
    text_words = set(_WORD.findall(text))
    for w in words:
        if w in name_words:
            score += 30
        if w in text_words:
            score += 10
        elif any(t.startswith(w) for t in text_words):
            score += 4
    return score


async def search(
    session: AsyncSession, query: str, *, kind: str | None, page: int, per_page: int
) -> SearchResults:
    if page < 1 or not 1 <= per_page <= 100:
        raise BadRequest("paging", "page must be >= 1 and per_page between 1 and 100")
    if len(query) > 200:
        raise BadRequest("search.query", "the query is longer than 200 characters: shorten it")
    rows = await session.scalars(
        select(models.Component).options(selectinload(models.Component.releases))
    )
    scored: list[tuple[float, SearchHit]] = []
    for c in rows:
        latest = latest_release(list(c.releases))
        if latest is None or (kind and kind not in (latest.kinds or [])):
            continue
        score = rank(query, c.name, latest)
        if score <= 0:
            continue
        hit = SearchHit(
            name=c.display_name,
            version=latest.version,
            summary=latest.summary,
            kinds=list(latest.kinds or []),  # type: ignore[arg-type]
            keywords=list(latest.keywords or []),
            entry_points=[e["name"] for e in latest.entry_points or []],
            requires_python=latest.requires_python,
            pysetl=latest.pysetl_specifier,
            pyspark=latest.pyspark_specifier,
            updated=max(r.created for r in c.releases),
            exact=c.name == canonicalize_name(query),
            score=score,
        )
        scored.append((score, hit))
    scored.sort(key=lambda s: (-s[0], s[1].name))
    start = (page - 1) * per_page
    hits = [h for _, h in scored[start : start + per_page]]
    return SearchResults(query=query, hits=hits, total=len(scored), page=page, per_page=per_page)
