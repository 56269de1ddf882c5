"""`/api/v1/components`: the marketplace JSON API."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter

from pysetl_hub_schemas import (
    Component,
    ComponentPage,
    ComponentSettings,
    Deleted,
    PublisherList,
    Release,
    YankRequest,
)
from pysetl_hub_server.accounts.permissions import Identity
from pysetl_hub_server.bounds import MAX_PAGE, MAX_PER_PAGE
from pysetl_hub_server.components import cached, services
from pysetl_hub_server.governance import deletion
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.provenance import publishers


class ComponentController(Controller):
    path = "/api/v1/components"
    tags = ["components"]

    @get("/", summary="List components (paged)")
    async def list_components(
        self,
        hub: NamedDependency[Hub],
        page: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 1,
        per_page: Annotated[int, QueryParameter(ge=1, le=MAX_PER_PAGE)] = 50,
    ) -> ComponentPage:
        async with hub.sessions() as session:
            return await services.list_components(session, page, per_page)

    @get(
        "/{name:str}",
        summary="A component with its releases",
        responses={200: ResponseSpec(Component, description="The component")},
    )
    async def component(
        self,
        request: Request[Any, Any, Any],
        name: FromPath[str],
        hub: NamedDependency[Hub],
        viewer: NamedDependency[Identity | None],
    ) -> Response[Any]:
        return await cached.component(request, hub, name, viewer)

    @patch("/{name:str}", summary="Change component settings (owners)")
    async def settings(
        self,
        name: FromPath[str],
        data: JSONBody[ComponentSettings],
        hub: NamedDependency[Hub],
        who: NamedDependency[Identity],
    ) -> PublisherList:
        return await publishers.update_settings(hub, who, name, data)

    @get(
        "/{name:str}/{version:str}",
        summary="One release",
        responses={200: ResponseSpec(Release, description="The release")},
    )
    async def release(
        self,
        request: Request[Any, Any, Any],
        name: FromPath[str],
        version: FromPath[str],
        hub: NamedDependency[Hub],
        viewer: NamedDependency[Identity | None],
    ) -> Response[Any]:
        return await cached.release(request, hub, name, version, viewer)

    # Here rather than with the other governance routes: Litestar keeps one route per path.
    @delete(
        "/{name:str}/{version:str}",
        status_code=200,
        summary="Delete a release and its files (owners; the filenames stay taken)",
    )
    async def delete_release(
        self,
        name: FromPath[str],
        version: FromPath[str],
        hub: NamedDependency[Hub],
        who: NamedDependency[Identity],
    ) -> Deleted:
        return await deletion.delete_release(hub, who, name, version)

    @post("/{name:str}/{version:str}/yank", status_code=200, summary="Yank a release (owners)")
    async def yank(
        self,
        name: FromPath[str],
        version: FromPath[str],
        data: JSONBody[YankRequest],
        hub: NamedDependency[Hub],
        who: NamedDependency[Identity],
    ) -> Release:
        return await services.set_yanked(hub, who, name, version, yanked=True, reason=data.reason)

    @post("/{name:str}/{version:str}/unyank", status_code=200, summary="Unyank (owners)")
    async def unyank(
        self,
        name: FromPath[str],
        version: FromPath[str],
        hub: NamedDependency[Hub],
        who: NamedDependency[Identity],
    ) -> Release:
        return await services.set_yanked(hub, who, name, version, yanked=False)
