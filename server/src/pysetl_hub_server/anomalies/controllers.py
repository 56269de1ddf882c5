"""Reading anomaly flags: a component's (its owners), every flag (admins). Newest first."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from pysetl_hub_schemas import FlagPage
from pysetl_hub_server.accounts.permissions import Identity
from pysetl_hub_server.anomalies import flags
from pysetl_hub_server.bounds import MAX_ID, MAX_PER_PAGE
from pysetl_hub_server.hub import Hub

Before = Annotated[
    int | None,
    QueryParameter(ge=1, le=MAX_ID, description="Only flags older than this id (`next_before`)."),
]
PerPage = Annotated[int, QueryParameter(ge=1, le=MAX_PER_PAGE)]


@get(
    "/api/v1/components/{name:str}/flags",
    tags=["anomalies"],
    summary="A component's anomaly flags, newest first (owners)",
)
async def component_flags(
    name: FromPath[str],
    hub: NamedDependency[Hub],
    who: NamedDependency[Identity],
    before: Before = None,
    per_page: PerPage = 50,
) -> FlagPage:
    async with hub.sessions() as session:
        return await flags.component_flags(session, who, name, before, per_page)


@get("/api/v1/admin/flags", tags=["anomalies"], summary="Every anomaly flag, newest first (admins)")
async def all_flags(
    hub: NamedDependency[Hub],
    who: NamedDependency[Identity],
    before: Before = None,
    per_page: PerPage = 50,
) -> FlagPage:
    async with hub.sessions() as session:
        return await flags.all_flags(session, who, before, per_page)


ROUTES = [component_flags, all_flags]
