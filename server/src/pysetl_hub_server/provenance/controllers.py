"""Thin handlers: trusted publishers, the require_attestations setting, the integrity API."""

from __future__ import annotations

from litestar import Controller, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from pysetl_hub_schemas import PublisherList, PublisherRequest
from pysetl_hub_server.accounts.permissions import Identity
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.provenance import integrity, publishers


class PublisherController(Controller):
    path = "/api/v1/components"
    tags = ["provenance"]

    @get("/{name:str}/publishers", summary="Trusted publishers of a component")
    async def list_publishers(
        self,
        name: FromPath[str],
        hub: NamedDependency[Hub],
        viewer: NamedDependency[Identity | None],
    ) -> PublisherList:
        async with hub.sessions() as session:
            return await publishers.list_publishers(session, name, viewer)

    @post(
        "/{name:str}/publishers",
        status_code=201,
        summary="Add a trusted publisher (owners; reserves a new name for the caller)",
    )
    async def add_publisher(
        self,
        name: FromPath[str],
        data: JSONBody[PublisherRequest],
        hub: NamedDependency[Hub],
        who: NamedDependency[Identity],
    ) -> PublisherList:
        return await publishers.add_publisher(hub, who, name, data)

    @delete(
        "/{name:str}/publishers/{publisher_id:int}",
        status_code=200,
        summary="Remove a trusted publisher (owners)",
    )
    async def remove_publisher(
        self,
        name: FromPath[str],
        publisher_id: FromPath[int],
        hub: NamedDependency[Hub],
        who: NamedDependency[Identity],
    ) -> PublisherList:
        return await publishers.remove_publisher(hub, who, name, publisher_id)


@get(
    "/integrity/{name:str}/{version:str}/{filename:str}/provenance",
    tags=["index"],
    summary="PEP 740 provenance object of a file",
)
async def provenance(
    name: FromPath[str], version: FromPath[str], filename: FromPath[str], hub: NamedDependency[Hub]
) -> Response[bytes]:
    async with hub.sessions() as session:
        body = await integrity.provenance_of(session, name, version, filename)
    return Response(content=body, media_type="application/json")
