"""Catalog search: checks the request, then asks the configured engine."""

from __future__ import annotations

from dataclasses import replace

from pysetl_hub_schemas import PYSETL, PYTHON, SPARK, SearchResults
from pysetl_hub_server.bounds import MAX_FILTER_TEXT, MAX_KEYWORD_FILTERS, MAX_PAGE, MAX_PER_PAGE
from pysetl_hub_server.errors import BadRequest
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.i18n.messages import _
from pysetl_hub_server.search.engine import SearchQuery
from pysetl_hub_server.search.rules import check_version


async def search(hub: Hub, query: SearchQuery) -> SearchResults:
    """Every bound of a search request is checked here (bounds.py), whoever calls."""
    if not 1 <= query.page <= MAX_PAGE or not 1 <= query.per_page <= MAX_PER_PAGE:
        raise BadRequest(
            "paging",
            _(
                "page must be 1 to {MAX_PAGE} and per_page between 1 and {MAX_PER_PAGE}",
                MAX_PAGE=MAX_PAGE,
                MAX_PER_PAGE=MAX_PER_PAGE,
            ),
        )
    if len(query.q) > MAX_FILTER_TEXT:
        raise BadRequest(
            "search.query",
            _(
                "the query is longer than {MAX_FILTER_TEXT} characters: shorten it",
                MAX_FILTER_TEXT=MAX_FILTER_TEXT,
            ),
        )
    if len(query.keywords) > MAX_KEYWORD_FILTERS:
        raise BadRequest(
            "search.keywords",
            _(
                "{keywords_count} keyword= filters; at most {MAX_KEYWORD_FILTERS} are accepted",
                keywords_count=len(query.keywords),
                MAX_KEYWORD_FILTERS=MAX_KEYWORD_FILTERS,
            ),
        )
    if query.license is not None and len(query.license) > MAX_FILTER_TEXT:
        raise BadRequest(
            "search.license",
            _(
                "license= is longer than {MAX_FILTER_TEXT} characters",
                MAX_FILTER_TEXT=MAX_FILTER_TEXT,
            ),
        )
    if query.min_quality is not None and not 0 <= query.min_quality <= 100:
        raise BadRequest(
            "search.min_quality",
            _(
                "min_quality={min_quality} is not a quality score: give 0 to 100",
                min_quality=query.min_quality,
            ),
        )
    query = replace(
        query,
        pysetl=check_version(PYSETL, query.pysetl),
        python=check_version(PYTHON, query.python),
        spark=check_version(SPARK, query.spark),
        platforms=hub.settings.platforms.by_axis(),
    )
    return await hub.search.search(query)
