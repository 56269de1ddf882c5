"""`GET /api/v1/components/{name}/downloads`: a component's download statistics."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from pysetl_hub_schemas import DownloadStats
from pysetl_hub_server.accounts.permissions import Identity
from pysetl_hub_server.bounds import MAX_DAYS
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.stats import services

Days = Annotated[
    int,
    QueryParameter(ge=1, le=MAX_DAYS, description="Days in the daily series, today included."),
]


@get(
    "/api/v1/components/{name:str}/downloads",
    tags=["components"],
    summary="A component's downloads: daily series, 30-day and all-time totals, per version",
)
async def component_downloads(
    name: FromPath[str],
    hub: NamedDependency[Hub],
    viewer: NamedDependency[Identity | None],
    days: Days = 30,
) -> DownloadStats:
    async with hub.sessions() as session:
        today = datetime.now(UTC).date()
        return await services.component_downloads(session, viewer, name, days, today)


ROUTES = [component_downloads]
