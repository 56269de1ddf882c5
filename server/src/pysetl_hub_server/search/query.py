"""The SQL a built-in search runs, apart from the dialect's text match.

A query is tried strictest first (all words; all but one; any word) and each attempt is one
statement, so the text match runs once per attempt: the page of hits and every facet count
come back together. Facet counts and filters are plain SQL over the matched set;
compatibility filters keep the stored PEP 440 specifiers that admit the requested version.
"""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import JSON, Boolean, TextClause, TextualSelect, bindparam, text

from pysetl_hub_schemas import PYSETL, PYTHON, SPARK
from pysetl_hub_server.db import models
from pysetl_hub_server.search.dialects import Group
from pysetl_hub_server.search.engine import SearchQuery
from pysetl_hub_server.search.rules import admitted_specs
from pysetl_hub_server.search.synonyms import expand
from pysetl_hub_server.search.vocabulary import Catalog

FALLBACK_LIMIT = 200
SPEC_COLUMNS = {PYTHON: "requires_python", PYSETL: "pysetl", SPARK: "pyspark"}


def attempts(n: int) -> list[list[tuple[int, ...]]]:
    """All words; then all but one (for up to 5 words); then any word."""
    every = tuple(range(n))
    attempts = [[every]]
    if 3 <= n <= 5:
        attempts.append(list(itertools.combinations(every, n - 1)))
    if n >= 2:
        attempts.append([(i,) for i in every])
    return attempts


def word_groups(terms: list[str], cat: Catalog, synonyms: bool) -> list[Group]:
    """Per query word: the word (a prefix when being typed or unknown) and its synonyms."""
    groups = []
    for i, term in enumerate(terms):
        typing = i == len(terms) - 1 or term not in cat.vocab_set
        alternatives = expand(term)[1:] if synonyms else []
        groups.append([(term, typing)] + [(syn, False) for syn in alternatives])
    return groups


def best_matches(match: str) -> str:
    """The any-word fallback can match most of the catalog: rank, count and facet its
    `FALLBACK_LIMIT` best matches only."""
    return f"SELECT * FROM ({match} ORDER BY score DESC LIMIT {FALLBACK_LIMIT}) fb"


def filters(query: SearchQuery, cat: Catalog) -> tuple[list[str], dict[str, Any]]:
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
    if query.min_quality is not None:
        where.append("d.quality >= :min_quality")
        params["min_quality"] = query.min_quality
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


def page_and_facets(
    query: SearchQuery, match: str, where: list[str], params: dict[str, Any]
) -> TextClause:
    """One statement, so the text match runs once: the page of hits (ids in rank order, facet
    'hit') and every facet count over the whole filtered match. Binds `norm`, `offset`,
    `limit` and `params`."""
    if match:
        best = (
            # The exact name joins the match even when the text does not (a name is not always
            # one token); `exact DESC` below, not its score, puts it first.
            f"WITH matched AS ({match} UNION ALL SELECT component_id AS id, 0.0 "
            "FROM search_docs WHERE name = :norm), "
            "best AS (SELECT id, max(score) AS score FROM matched GROUP BY id)"
        )
    else:
        best = "WITH best AS (SELECT component_id AS id, 0.0 AS score FROM search_docs)"
    # SQLite plans joins without knowing the match is small; CROSS JOIN keeps it driving
    # (PostgreSQL has statistics and reorders a CROSS JOIN + WHERE freely).
    join = "CROSS JOIN"
    conditions = ["d.component_id = b.id", *where]
    # Only the small columns, computed once (MATERIALIZED: both SQLite and PostgreSQL
    # would otherwise repeat the join for each facet).
    filtered = (
        f"{best}, filtered AS MATERIALIZED (SELECT d.component_id, d.name, d.license, "
        "d.verified, d.updated, d.downloads, d.quality, d.requires_python, d.pysetl, d.pyspark, "
        "b.score AS score, "
        f"CASE WHEN d.name = :norm THEN 1 ELSE 0 END AS exact "
        f"FROM best b {join} search_docs d WHERE " + " AND ".join(conditions) + ")"
    )
    order = {
        "relevance": "exact DESC, score DESC, downloads DESC, updated DESC, name",
        "newest": "updated DESC, name",
        "name": "name",
        "quality": "quality DESC, downloads DESC, updated DESC, name",
    }[query.sort]
    expanding: list[Any] = [
        bindparam(k, expanding=True) for k, v in params.items() if isinstance(v, list)
    ]
    verified = "CASE WHEN verified THEN 'true' ELSE 'false' END"
    return text(
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


def documents(group_concat: str) -> TextualSelect:
    """The stored rows of a page of hits (bind `ids`), with their kinds joined by commas."""
    kinds = (
        f"(SELECT {group_concat} FROM search_tags t "
        "WHERE t.component_id = d.component_id AND t.facet = 'kind')"
    )
    return (
        text(f"SELECT d.*, {kinds} AS kinds FROM search_docs d WHERE d.component_id IN :ids")
        .bindparams(bindparam("ids", expanding=True))
        .columns(
            updated=models.UTCDateTime(),
            keywords=JSON(),
            verified=Boolean(),
            yanked=Boolean(),
        )
    )
