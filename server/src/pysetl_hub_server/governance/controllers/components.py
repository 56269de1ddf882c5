"""`/api/v1/components/{name}/...`: roles, invitations to them, transfer, and deletion."""

from __future__ import annotations

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from pysetl_hub_schemas import (
    Deleted,
    Invitation,
    Organization,
    RoleList,
    RoleRequest,
    TransferRequest,
)
from pysetl_hub_server.accounts.permissions import Identity
from pysetl_hub_server.governance import deletion, invitations, orgs, roles
from pysetl_hub_server.hub import Hub


class RoleController(Controller):
    path = "/api/v1/components"
    tags = ["governance"]

    @get("/{name:str}/roles", summary="Who holds which role (public: usernames only)")
    async def list_roles(
        self,
        name: FromPath[str],
        hub: NamedDependency[Hub],
        viewer: NamedDependency[Identity | None],
    ) -> RoleList:
        async with hub.sessions() as session:
            return await roles.list_roles(session, name, viewer)

    @post("/{name:str}/roles", status_code=201, summary="Invite a user to a role (owners)")
    async def invite(
        self,
        name: FromPath[str],
        data: JSONBody[RoleRequest],
        hub: NamedDependency[Hub],
        who: NamedDependency[Identity],
    ) -> Invitation:
        return await invitations.invite_to_component(hub, who, name, data)

    @delete(
        "/{name:str}/roles/{username:str}",
        status_code=200,
        summary="Remove a role (owners), or give up your own",
    )
    async def remove_role(
        self,
        name: FromPath[str],
        username: FromPath[str],
        hub: NamedDependency[Hub],
        who: NamedDependency[Identity],
    ) -> RoleList:
        return await roles.remove_role(hub, who, name, username)

    @post(
        "/{name:str}/transfer",
        status_code=200,
        summary="Move a component into an organization (owner of both)",
    )
    async def transfer(
        self,
        name: FromPath[str],
        data: JSONBody[TransferRequest],
        hub: NamedDependency[Hub],
        who: NamedDependency[Identity],
    ) -> Organization:
        return await orgs.transfer(hub, who, name, data.organization)

    @delete(
        "/{name:str}/{version:str}/files/{filename:str}",
        status_code=200,
        summary="Delete one file of a release (owners; the filename stays taken)",
    )
    async def delete_file(
        self,
        name: FromPath[str],
        version: FromPath[str],
        filename: FromPath[str],
        hub: NamedDependency[Hub],
        who: NamedDependency[Identity],
    ) -> Deleted:
        return await deletion.delete_file(hub, who, name, version, filename)
