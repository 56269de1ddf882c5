"""`GET /api/v1/search`."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter

from pysetl_hub_schemas import SearchResults
from pysetl_hub_server.runtime import Hub
from pysetl_hub_server.search import services


@get("/api/v1/search", tags=["search"], summary="Search the catalog")
async def search(
    hub: NamedDependency[Hub],
    q: FromQuery[str] = "",
    kind: FromQuery[Literal["factory", "pipeline"] | None] = None,
    page: Annotated[int, QueryParameter(ge=1)] = 1,
    per_page: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
) -> SearchResults:
    async with hub.sessions() as session:
        return await services.search(session, q, kind=kind, page=page, per_page=per_page)
