"""`GET /api/v1/search`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromQuery, QueryParameter
from litestar.serialization import encode_json

from pysetl_hub_schemas import Kind, SearchResults
from pysetl_hub_server.answers import json_answer
from pysetl_hub_server.bounds import MAX_PAGE, MAX_PER_PAGE
from pysetl_hub_server.finished import Finished
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.search import services
from pysetl_hub_server.search.answers import KEPT_PER_PAGE
from pysetl_hub_server.search.engine import SearchQuery


@get(
    "/api/v1/search",
    tags=["search"],
    summary="Search the catalog",
    responses={200: ResponseSpec(SearchResults, description="The hits, facets and total")},
)
async def search(
    request: Request[Any, Any, Any],
    hub: NamedDependency[Hub],
    q: FromQuery[str] = "",
    kind: FromQuery[Kind | None] = None,
    pysetl: FromQuery[str | None] = None,
    python: FromQuery[str | None] = None,
    spark: FromQuery[str | None] = None,
    license: FromQuery[str | None] = None,
    keyword: FromQuery[list[str] | None] = None,
    verified: FromQuery[bool | None] = None,
    min_quality: Annotated[
        int | None, QueryParameter(ge=0, le=100, description="Only scores of at least this.")
    ] = None,
    include_yanked: FromQuery[bool] = False,
    sort: FromQuery[Literal["relevance", "newest", "name", "quality"]] = "relevance",
    explain: FromQuery[bool] = False,
    page: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 1,
    per_page: Annotated[int, QueryParameter(ge=1, le=MAX_PER_PAGE)] = 20,
) -> Response[Any]:
    """Exact name first, then relevance; filters by kind, compatibility, license, keywords."""
    query = SearchQuery(
        q=q,
        kind=kind,
        pysetl=pysetl,
        python=python,
        spark=spark,
        license=license,
        keywords=tuple(keyword or ()),
        verified=verified,
        min_quality=min_quality,
        include_yanked=include_yanked,
        sort=sort,
        explain=explain,
        page=page,
        per_page=per_page,
    )
    # Only ordinary pages are kept (answers.py): explanations and big pages are answered.
    ordinary = not explain and per_page <= KEPT_PER_PAGE
    kept = hub.search.answers if ordinary else None
    token = kept.token() if kept is not None else None
    answer = json_answer(encode_json(await services.search(hub, query)))
    if kept is not None:
        kept.put(request.scope["query_string"], token, answer)
    return Finished(*answer.to(request.headers.get("if-none-match")))
