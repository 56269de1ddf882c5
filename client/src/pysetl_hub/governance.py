"""Who may do what, from the client: roles, invitations, organizations and teams, transfer and
deletion. Pure request builders (as `core`) and the `HubClient` methods that send them."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

import msgspec

from pysetl_hub import core
from pysetl_hub.core import Call
from pysetl_hub_schemas import (
    Deleted,
    Invitation,
    InvitationList,
    Organization,
    OrgCreate,
    OrgMemberRequest,
    RoleList,
    RoleRequest,
    TeamCreate,
    TeamMemberRequest,
    TeamRoleRequest,
    TransferRequest,
)

if TYPE_CHECKING:
    import httpx

T = TypeVar("T")


def _seg(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


def _body(value: msgspec.Struct) -> bytes:
    return msgspec.json.encode(value)


def roles(name: str) -> Call:
    return Call("GET", f"/api/v1/components/{_seg(name)}/roles")


def invite(name: str, username: str, role: str) -> Call:
    body = _body(RoleRequest(username=username, role=role))  # type: ignore[arg-type]
    return Call("POST", f"/api/v1/components/{_seg(name)}/roles", body=body, auth=True)


def remove_role(name: str, username: str) -> Call:
    return Call("DELETE", f"/api/v1/components/{_seg(name)}/roles/{_seg(username)}", auth=True)


def invitations() -> Call:
    return Call("GET", "/api/v1/invitations", auth=True)


def answer(invitation_id: int, verb: str) -> Call:
    """`accept` or `decline` an invitation; `revoke` withdraws one (owners)."""
    if verb == "revoke":
        return Call("DELETE", f"/api/v1/invitations/{invitation_id}", auth=True)
    return Call("POST", f"/api/v1/invitations/{invitation_id}/{verb}", body=b"{}", auth=True)


def org(name: str) -> Call:
    return Call("GET", f"/api/v1/orgs/{_seg(name)}")


def create_org(name: str) -> Call:
    return Call("POST", "/api/v1/orgs", body=_body(OrgCreate(name=name)), auth=True)


def invite_member(org_name: str, username: str, role: str) -> Call:
    body = _body(OrgMemberRequest(username=username, role=role))  # type: ignore[arg-type]
    return Call("POST", f"/api/v1/orgs/{_seg(org_name)}/members", body=body, auth=True)


def remove_member(org_name: str, username: str) -> Call:
    return Call("DELETE", f"/api/v1/orgs/{_seg(org_name)}/members/{_seg(username)}", auth=True)


def create_team(org_name: str, team: str) -> Call:
    body = _body(TeamCreate(name=team))
    return Call("POST", f"/api/v1/orgs/{_seg(org_name)}/teams", body=body, auth=True)


def team_member(org_name: str, team: str, username: str, *, remove: bool = False) -> Call:
    base = f"/api/v1/orgs/{_seg(org_name)}/teams/{_seg(team)}/members"
    if remove:
        return Call("DELETE", f"{base}/{_seg(username)}", auth=True)
    return Call("POST", base, body=_body(TeamMemberRequest(username=username)), auth=True)


def team_role(org_name: str, team: str, component: str, role: str | None) -> Call:
    """Give the team `role` on `component`; None takes its role away."""
    base = f"/api/v1/orgs/{_seg(org_name)}/teams/{_seg(team)}/roles"
    if role is None:
        return Call("DELETE", f"{base}/{_seg(component)}", auth=True)
    body = _body(TeamRoleRequest(component=component, role=role))  # type: ignore[arg-type]
    return Call("PUT", base, body=body, auth=True)


def transfer(name: str, org_name: str) -> Call:
    body = _body(TransferRequest(organization=org_name))
    return Call("POST", f"/api/v1/components/{_seg(name)}/transfer", body=body, auth=True)


def delete(name: str, version: str, filename: str | None = None) -> Call:
    path = f"/api/v1/components/{_seg(name)}/{_seg(version)}"
    if filename is not None:
        path += f"/files/{_seg(filename)}"
    return Call("DELETE", path, auth=True)


class GovernanceMethods:
    """The governance methods of `HubClient` (it supplies `_call`)."""

    def _call(self, call: Call) -> httpx.Response:
        raise NotImplementedError

    def _get(self, call: Call, type_: type[T]) -> T:
        return core.parse(self._call(call), type_)

    def roles(self, name: str) -> RoleList:
        """Who holds which role on `name` (public)."""
        return self._get(roles(name), RoleList)

    def invite(self, name: str, username: str, role: str) -> Invitation:
        """Invite `username` to `role` (owner or maintainer) on `name`; they must accept."""
        return self._get(invite(name, username, role), Invitation)

    def remove_role(self, name: str, username: str) -> RoleList:
        """Remove a user's role (owners), or your own (leave)."""
        return self._get(remove_role(name, username), RoleList)

    def invitations(self) -> InvitationList:
        """Your invitations, pending first."""
        return self._get(invitations(), InvitationList)

    def answer_invitation(self, invitation_id: int, verb: str) -> Invitation:
        """`accept`, `decline` (yours) or `revoke` (as an owner) an invitation."""
        return self._get(answer(invitation_id, verb), Invitation)

    def org(self, name: str) -> Organization:
        return self._get(org(name), Organization)

    def create_org(self, name: str) -> Organization:
        return self._get(create_org(name), Organization)

    def invite_member(self, org_name: str, username: str, role: str = "member") -> Invitation:
        return self._get(invite_member(org_name, username, role), Invitation)

    def remove_member(self, org_name: str, username: str) -> Organization:
        return self._get(remove_member(org_name, username), Organization)

    def create_team(self, org_name: str, team: str) -> Organization:
        return self._get(create_team(org_name, team), Organization)

    def team_member(
        self, org_name: str, team: str, username: str, *, remove: bool = False
    ) -> Organization:
        return self._get(team_member(org_name, team, username, remove=remove), Organization)

    def team_role(self, org_name: str, team: str, component: str, role: str | None) -> Organization:
        return self._get(team_role(org_name, team, component, role), Organization)

    def transfer(self, name: str, org_name: str) -> Organization:
        """Move `name` into an organization (you own both)."""
        return self._get(transfer(name, org_name), Organization)

    def delete(self, name: str, version: str, filename: str | None = None) -> Deleted:
        """Delete a release, or one file of it (owners). The filenames can never be reused."""
        return self._get(delete(name, version, filename), Deleted)
