"""Reading the audit trail: a component's events (owners), your own security events, and
every event (admins). Paged newest first; `audit/events.py` decides who sees what."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from pysetl_hub_schemas import AuditEventPage
from pysetl_hub_server.accounts.permissions import Identity
from pysetl_hub_server.audit import events
from pysetl_hub_server.bounds import MAX_PER_PAGE
from pysetl_hub_server.hub import Hub

Before = Annotated[
    int | None,
    QueryParameter(ge=1, description="Only events older than this id (`next_before`)."),
]
PerPage = Annotated[int, QueryParameter(ge=1, le=MAX_PER_PAGE)]


@get(
    "/api/v1/components/{name:str}/events",
    tags=["audit"],
    summary="A component's audit events, newest first (owners)",
)
async def component_events(
    name: FromPath[str],
    hub: NamedDependency[Hub],
    who: NamedDependency[Identity],
    before: Before = None,
    per_page: PerPage = 50,
) -> AuditEventPage:
    async with hub.sessions() as session:
        return await events.component_events(session, who, name, before, per_page)


@get("/api/v1/me/events", tags=["audit"], summary="Your own security events, newest first")
async def my_events(
    hub: NamedDependency[Hub],
    who: NamedDependency[Identity],
    before: Before = None,
    per_page: PerPage = 50,
) -> AuditEventPage:
    async with hub.sessions() as session:
        return await events.my_events(session, who, before, per_page)


@get("/api/v1/admin/events", tags=["audit"], summary="Every audit event, newest first (admins)")
async def all_events(
    hub: NamedDependency[Hub],
    who: NamedDependency[Identity],
    before: Before = None,
    per_page: PerPage = 50,
) -> AuditEventPage:
    async with hub.sessions() as session:
        return await events.all_events(session, who, before, per_page)


ROUTES = [component_events, my_events, all_events]
