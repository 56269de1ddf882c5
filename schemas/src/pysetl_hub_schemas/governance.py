"""Who may do what: roles on components, invitations, organizations and teams, deletion, and
the admin actions (quarantine, prohibited names, reserved prefixes).

Roles and members are public by username; an e-mail address never appears here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from msgspec import Meta

from pysetl_hub_schemas.base import ComponentName, Request, Response, Version

RoleName = Literal["owner", "maintainer"]
OrgRole = Literal["owner", "member"]
InvitationStatus = Literal["pending", "accepted", "declined", "revoked", "expired"]

Username = Annotated[
    str, Meta(min_length=1, max_length=64, description="A user's name.", examples=["alice"])
]
OrgName = Annotated[
    str,
    Meta(
        pattern=r"^([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])$(?!\n)",
        max_length=64,
        description="Organization name; compared in PEP 503 normalized form.",
        examples=["acme"],
    ),
]
Reason = Annotated[str, Meta(max_length=500, description="Shown to the owners (and admins).")]


class RoleRequest(Request):
    """Body of `POST /api/v1/components/{name}/roles`: invite a user to a role."""

    username: Username
    role: RoleName


class RoleEntry(Response):
    """One user's role on a component, and where it comes from."""

    username: str
    role: RoleName
    # "direct", "organization" (an owner of the owning organization) or "team:<name>".
    via: str = "direct"


class RoleList(Response):
    """Body of `GET /api/v1/components/{name}/roles`."""

    component: str
    organization: str | None = None
    roles: list[RoleEntry] = []


class Invitation(Response):
    """An offer of a role on a component, or of a seat in an organization."""

    id: int
    invitee: str
    role: str  # owner | maintainer on a component; owner | member in an organization
    status: InvitationStatus
    created: datetime
    expires: datetime
    component: str | None = None
    organization: str | None = None
    inviter: str | None = None


class InvitationList(Response):
    """Body of `GET /api/v1/invitations`: the caller's invitations, newest first."""

    invitations: list[Invitation] = []


class OrgCreate(Request):
    """Body of `POST /api/v1/orgs`: the caller becomes its first owner."""

    name: OrgName


class OrgMemberRequest(Request):
    """Body of `POST /api/v1/orgs/{org}/members`: invite a user."""

    username: Username
    role: OrgRole = "member"


class OrgMember(Response):
    username: str
    role: OrgRole


class TeamRole(Response):
    """A team's role on a component of its organization."""

    component: str
    role: RoleName


class Team(Response):
    name: str
    members: list[str] = []
    roles: list[TeamRole] = []


class Organization(Response):
    """Body of `GET /api/v1/orgs/{org}`."""

    name: str
    display_name: str
    members: list[OrgMember] = []
    teams: list[Team] = []
    components: list[str] = []
    prefixes: list[str] = []


class TeamCreate(Request):
    """Body of `POST /api/v1/orgs/{org}/teams`."""

    name: OrgName


class TeamMemberRequest(Request):
    """Body of `POST /api/v1/orgs/{org}/teams/{team}/members`: an organization member."""

    username: Username


class TeamRoleRequest(Request):
    """Body of `PUT /api/v1/orgs/{org}/teams/{team}/roles`."""

    component: ComponentName
    role: RoleName


class TransferRequest(Request):
    """Body of `POST /api/v1/components/{name}/transfer`."""

    organization: OrgName


class Deleted(Response):
    """What a deletion removed. The filenames stay taken forever."""

    component: str
    version: Version
    filenames: list[str] = []
    release_deleted: bool = False


class QuarantineRequest(Request):
    """Body of `POST /api/v1/admin/components/{name}/quarantine`."""

    reason: Annotated[str, Meta(min_length=1, max_length=500)]


class QuarantineState(Response):
    component: str
    quarantined: bool
    reason: str | None = None
    since: datetime | None = None


class ProhibitRequest(Request):
    """Body of `POST /api/v1/admin/prohibited-names`."""

    name: ComponentName
    reason: Reason = ""


class ProhibitedName(Response):
    name: str
    reason: str = ""


class PrefixRequest(Request):
    """Body of `POST /api/v1/admin/prefixes`: only members of `organization` may create
    components named `prefix` or `prefix-*`."""

    prefix: OrgName
    organization: OrgName


class ReservedPrefix(Response):
    prefix: str
    organization: str
