"""Catalog search: checks the request, then asks the configured engine."""

from __future__ import annotations

from dataclasses import replace

from pysetl_hub_schemas import PYSETL, PYTHON, SPARK, SearchResults
from pysetl_hub_server.errors import BadRequest
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.search.engine import SearchQuery
from pysetl_hub_server.search.rules import check_version

MAX_QUERY = 200


async def search(hub: Hub, query: SearchQuery) -> SearchResults:
    if query.page < 1 or not 1 <= query.per_page <= 100:
        raise BadRequest("paging", "page must be >= 1 and per_page between 1 and 100")
    if len(query.q) > MAX_QUERY:
        raise BadRequest(
            "search.query", f"the query is longer than {MAX_QUERY} characters: shorten it"
        )
    query = replace(
        query,
        pysetl=check_version(PYSETL, query.pysetl),
        python=check_version(PYTHON, query.python),
        spark=check_version(SPARK, query.spark),
        platforms=hub.settings.platforms.by_axis(),
    )
    return await hub.search.search(query)
