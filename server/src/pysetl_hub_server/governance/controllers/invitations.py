"""`/api/v1/invitations`: the caller's invitations, and answering or revoking one."""

from __future__ import annotations

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from pysetl_hub_schemas import Invitation, InvitationList
from pysetl_hub_server.accounts.permissions import Identity
from pysetl_hub_server.governance import invitations
from pysetl_hub_server.hub import Hub


class InvitationController(Controller):
    path = "/api/v1/invitations"
    tags = ["governance"]

    @get("/", summary="Your invitations (pending first)")
    async def mine(
        self, hub: NamedDependency[Hub], who: NamedDependency[Identity]
    ) -> InvitationList:
        return await invitations.mine(hub, who)

    @post("/{invitation_id:int}/accept", status_code=200, summary="Accept an invitation")
    async def accept(
        self,
        invitation_id: FromPath[int],
        hub: NamedDependency[Hub],
        who: NamedDependency[Identity],
    ) -> Invitation:
        return await invitations.accept(hub, who, invitation_id)

    @post("/{invitation_id:int}/decline", status_code=200, summary="Decline an invitation")
    async def decline(
        self,
        invitation_id: FromPath[int],
        hub: NamedDependency[Hub],
        who: NamedDependency[Identity],
    ) -> Invitation:
        return await invitations.decline(hub, who, invitation_id)

    @delete(
        "/{invitation_id:int}",
        status_code=200,
        summary="Revoke a pending invitation (owners of its component or organization)",
    )
    async def revoke(
        self,
        invitation_id: FromPath[int],
        hub: NamedDependency[Hub],
        who: NamedDependency[Identity],
    ) -> Invitation:
        return await invitations.revoke(hub, who, invitation_id)
