"""Advisory routes: publishing and reading them (`/api/v1/...`, OSV JSON), and the OSV query
API (`/osv/v1/...`, the shapes api.osv.dev answers)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from pysetl_hub_schemas.osv import (
    AdvisoryCreate,
    AdvisoryPage,
    AdvisoryWithdraw,
    Osv,
    OsvBatchQuery,
    OsvBatchResponse,
    OsvQuery,
    OsvVulns,
)
from pysetl_hub_server.accounts.permissions import Identity
from pysetl_hub_server.advisories import query as osv_query
from pysetl_hub_server.advisories import services
from pysetl_hub_server.bounds import MAX_PAGE, MAX_PER_PAGE
from pysetl_hub_server.hub import Hub

Page = Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)]
PerPage = Annotated[int, QueryParameter(ge=1, le=MAX_PER_PAGE)]
Since = Annotated[
    datetime | None,
    QueryParameter(description="Only advisories modified at or after this time (RFC 3339)."),
]


class ComponentAdvisoryController(Controller):
    path = "/api/v1/components"
    tags = ["advisories"]

    @post(
        "/{name:str}/advisories",
        status_code=201,
        summary="Publish a security advisory, OSV schema (owners, admins)",
    )
    async def publish(
        self,
        name: FromPath[str],
        data: JSONBody[AdvisoryCreate],
        hub: NamedDependency[Hub],
        who: NamedDependency[Identity],
    ) -> Osv:
        return await services.publish(hub, who, name, data)

    @get("/{name:str}/advisories", summary="A component's advisories, withdrawn ones included")
    async def list_for(
        self,
        name: FromPath[str],
        hub: NamedDependency[Hub],
        viewer: NamedDependency[Identity | None],
        page: Page = 1,
        per_page: PerPage = 50,
    ) -> AdvisoryPage:
        async with hub.sessions() as session:
            return await services.page(session, page, per_page, name=name, viewer=viewer)


class AdvisoryController(Controller):
    path = "/api/v1/advisories"
    tags = ["advisories"]

    @get("/", summary="Every advisory, most recently modified first")
    async def list_all(
        self, hub: NamedDependency[Hub], page: Page = 1, per_page: PerPage = 50, since: Since = None
    ) -> AdvisoryPage:
        async with hub.sessions() as session:
            return await services.page(session, page, per_page, since=since)

    @get("/{osv_id:str}", summary="One advisory (OSV JSON)")
    async def one(
        self,
        osv_id: FromPath[str],
        hub: NamedDependency[Hub],
        viewer: NamedDependency[Identity | None],
    ) -> Osv:
        async with hub.sessions() as session:
            return await services.get(session, osv_id, viewer)

    @post(
        "/{osv_id:str}/withdraw", status_code=200, summary="Withdraw an advisory (owners, admins)"
    )
    async def withdraw(
        self,
        osv_id: FromPath[str],
        data: JSONBody[AdvisoryWithdraw],
        hub: NamedDependency[Hub],
        who: NamedDependency[Identity],
    ) -> Osv:
        return await services.withdraw(hub, who, osv_id, data.reason)


class OsvController(Controller):
    """`--osv-url <hub>/osv/v1/query` for pip-audit; osv-scanner's API base is `<hub>/osv`."""

    path = "/osv/v1"
    tags = ["osv"]

    @post("/query", status_code=200, summary="OSV query: advisories affecting a package version")
    async def query(self, data: JSONBody[OsvQuery], hub: NamedDependency[Hub]) -> OsvVulns:
        async with hub.sessions() as session:
            return await osv_query.query(session, data)

    @post("/querybatch", status_code=200, summary="OSV batch query: ids and modified times")
    async def querybatch(
        self, data: JSONBody[OsvBatchQuery], hub: NamedDependency[Hub]
    ) -> OsvBatchResponse:
        async with hub.sessions() as session:
            return await osv_query.batch(session, data)

    @get("/vulns/{osv_id:str}", summary="One advisory (OSV JSON)")
    async def vuln(self, osv_id: FromPath[str], hub: NamedDependency[Hub]) -> Osv:
        async with hub.sessions() as session:
            return await services.get(session, osv_id)
