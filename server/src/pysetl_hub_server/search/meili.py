"""The Meilisearch engine (`PYSETL_HUB_SEARCH_URL`, `PYSETL_HUB_SEARCH_KEY`), official client.

Settings are applied at start: searchable fields in weight order, filterable and sortable
fields, ranking rules with exactness first, the shared synonyms. Every task is awaited, so a
write is visible when `index` returns. Compatibility filters use the platform versions each
document admits (the configured lists); an exact normalized name is pinned first, as in every
engine.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pysetl_hub_schemas import PLATFORMS, PYSETL, PYTHON, SPARK, SearchHit, SearchResults
from pysetl_hub_server.components.compat import admits
from pysetl_hub_server.errors import ServiceUnavailable
from pysetl_hub_server.i18n.messages import _
from pysetl_hub_server.search.engine import Document, SearchQuery
from pysetl_hub_server.search.rules import exact_name, highlight, words
from pysetl_hub_server.search.synonyms import expand, meilisearch_synonyms

INDEX = "components"
SETTINGS: dict[str, Any] = {
    "searchableAttributes": ["name_text", "entry_points", "summary", "keywords", "readme"],
    "filterableAttributes": [
        "kinds", "license", "keywords", "verified", "yanked",
        "python_versions", "pysetl_versions", "spark_versions", "name", "quality",
    ],
    "sortableAttributes": ["updated", "downloads", "name", "quality"],
    "rankingRules": [
        "exactness", "words", "typo", "proximity", "attribute", "sort",
        "downloads:desc", "updated:desc",
    ],
    "typoTolerance": {"minWordSizeForTypos": {"oneTypo": 4, "twoTypos": 7}},
}  # fmt: skip


# Seconds a client should wait before searching again after the engine failed to answer.
RETRY_UNAVAILABLE = 10
# Meilisearch's answers to a missing or wrong key: the operator's set-up, not the request.
_REFUSED = frozenset({401, 403})

log = logging.getLogger(__name__)


def unavailable() -> ServiceUnavailable:
    return ServiceUnavailable(
        "search.unavailable",
        _(
            "search is unavailable: the search engine does not answer; retry after {seconds} "
            "seconds (installing and publishing still work, and the index catches up once the "
            "engine is back; operators: check PYSETL_HUB_SEARCH_URL and the engine)",
            seconds=RETRY_UNAVAILABLE,
        ),
        retry_after=RETRY_UNAVAILABLE,
    )


class MeilisearchEngine:
    name = "meilisearch"
    answers = None  # the index changes on Meilisearch's side: no version token to keep by

    def __init__(self, url: str, key: str | None, platforms: dict[str, tuple[str, ...]]) -> None:
        import meilisearch

        self._client = meilisearch.Client(url, key)
        self._platforms = platforms

    async def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """A client call off the event loop; a server that cannot be reached, fails (5xx) or
        refuses the key (401/403) is an outage (503 `search.unavailable`), not a bug: the
        detail goes to the log, never the key (Meilisearch does not echo it)."""
        from meilisearch.errors import (
            MeilisearchApiError,
            MeilisearchCommunicationError,
            MeilisearchTimeoutError,
        )

        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except (MeilisearchCommunicationError, MeilisearchTimeoutError) as exc:
            raise unavailable() from exc
        except MeilisearchApiError as exc:
            if exc.status_code < 500 and exc.status_code not in _REFUSED:
                raise
            log.error(
                "the search engine answered %s (%s): %s; check PYSETL_HUB_SEARCH_URL and "
                "PYSETL_HUB_SEARCH_KEY",
                exc.status_code,
                exc.code,
                exc.message,
            )
            raise unavailable() from exc

    async def _wait(self, task: Any) -> None:
        await self._call(self._client.wait_for_task, task.task_uid, timeout_in_ms=60_000)

    async def start(self) -> None:
        await self._wait(await self._call(self._client.create_index, INDEX, {"primaryKey": "id"}))
        index = self._client.index(INDEX)
        settings = {**SETTINGS, "synonyms": meilisearch_synonyms()}
        await self._wait(await self._call(index.update_settings, settings))

    async def ping(self) -> None:
        # Not /health: Meilisearch answers it without the key, so a refused (or rotated) key
        # would read as ready while every search fails. The index itself needs the key.
        await self._call(self._client.get_raw_index, INDEX)

    async def close(self) -> None:
        return None

    def _body(self, d: Document) -> dict[str, Any]:
        return {
            "id": d.id,
            "name": d.name,
            "display_name": d.display_name,
            "name_text": " ".join([d.name, d.name.replace("-", " "), d.name.replace("-", "")]),
            "version": d.version,
            "summary": d.summary,
            "entry_points": d.entry_points,
            "keywords": d.keywords,
            "readme": d.readme,
            "license": d.license,
            "kinds": d.kinds,
            "verified": d.verified,
            "yanked": d.yanked,
            "updated": int(d.updated.timestamp()),
            "downloads": d.downloads,
            "quality": d.quality,
            "requires_python": d.requires_python,
            "pysetl": d.pysetl,
            "pyspark": d.pyspark,
            "python_versions": [
                v for v in self._platforms.get(PYTHON, ()) if admits(d.requires_python, v)
            ],
            "pysetl_versions": [v for v in self._platforms.get(PYSETL, ()) if admits(d.pysetl, v)],
            "spark_versions": [v for v in self._platforms.get(SPARK, ()) if admits(d.pyspark, v)],
        }

    async def index(self, docs: Sequence[Document]) -> None:
        if docs:
            index = self._client.index(INDEX)
            await self._wait(await self._call(index.add_documents, [self._body(d) for d in docs]))

    async def remove(self, names: Sequence[str]) -> None:
        if names:
            index = self._client.index(INDEX)
            quoted = ", ".join(f'"{n}"' for n in names)
            await self._wait(await self._call(index.delete_documents, filter=f"name IN [{quoted}]"))

    async def clear(self) -> None:
        await self._wait(await self._call(self._client.index(INDEX).delete_all_documents))

    def _filter(self, q: SearchQuery) -> list[str]:
        out = []
        if q.kind:
            out.append(f'kinds = "{q.kind}"')
        for kw in q.keywords:
            out.append(f'keywords = "{kw.lower()}"')
        if q.license:
            out.append(f'license = "{q.license}"')
        if q.verified is not None:
            out.append(f"verified = {str(q.verified).lower()}")
        if q.min_quality is not None:
            out.append(f"quality >= {int(q.min_quality)}")
        if not q.include_yanked:
            out.append("yanked = false")
        for platform in PLATFORMS:
            version = getattr(q, platform)
            if version:
                out.append(f'{platform}_versions = "{version}"')
        return out

    async def search(self, query: SearchQuery) -> SearchResults:
        index = self._client.index(INDEX)
        sort = {
            "relevance": None,
            "newest": ["updated:desc"],
            "name": ["name:asc"],
            "quality": ["quality:desc", "downloads:desc"],
        }[query.sort]
        params: dict[str, Any] = {
            "filter": self._filter(query),
            "facets": [
                "kinds",
                "license",
                "keywords",
                "verified",
                *(f"{p}_versions" for p in PLATFORMS),
            ],
            "hitsPerPage": query.per_page,
            "page": query.page,
            "showRankingScore": True,
            "showRankingScoreDetails": query.explain,
        }
        if sort:
            params["sort"] = sort
        res = await self._call(index.search, query.q, params)
        norm = exact_name(query.q)
        hits_raw = list(res["hits"])
        if norm and query.sort == "relevance" and query.page == 1:
            pinned = await self._call(
                index.search,
                "",
                {**params, "filter": [*params["filter"], f'name = "{norm}"'], "page": 1},
            )
            exact = list(pinned["hits"])
            hits_raw = exact + [h for h in hits_raw if h["name"] != norm]
            hits_raw = hits_raw[: query.per_page]
        terms = [t for w in words(query.q) for t in expand(w)]
        hits = [
            SearchHit(
                name=h["display_name"],
                version=h.get("version"),
                summary=h.get("summary"),
                kinds=h.get("kinds", []),
                keywords=h.get("keywords", []),
                entry_points=h.get("entry_points", []),
                requires_python=h.get("requires_python"),
                pysetl=h.get("pysetl"),
                pyspark=h.get("pyspark"),
                license=h.get("license"),
                verified=bool(h.get("verified")),
                yanked=bool(h.get("yanked")),
                downloads=int(h.get("downloads", 0)),
                quality=int(h.get("quality", 0)),
                updated=datetime.fromtimestamp(h.get("updated", 0), UTC),
                exact=h["name"] == norm,
                score=float(h.get("_rankingScore", 0.0)),
                highlights={
                    "name": highlight(h["display_name"], terms),
                    "summary": highlight(h.get("summary") or "", terms),
                },
                explain=str(h.get("_rankingScoreDetails")) if query.explain else None,
            )
            for h in hits_raw
        ]
        dist = res.get("facetDistribution", {})
        facets: dict[str, dict[str, int]] = {
            "kind": dist.get("kinds", {}),
            "license": dist.get("license", {}),
            "keyword": dist.get("keywords", {}),
            "verified": dist.get("verified", {}),
            **{p: dist.get(f"{p}_versions", {}) for p in PLATFORMS},
        }
        return SearchResults(
            query=query.q,
            hits=hits,
            total=int(res.get("totalHits", len(hits))),
            page=query.page,
            per_page=query.per_page,
            facets=facets,
            engine=self.name,
        )
