"""`/api/v1/orgs`: organizations, their members and teams."""

from __future__ import annotations

from litestar import Controller, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from pysetl_hub_schemas import (
    Invitation,
    Organization,
    OrgCreate,
    OrgMemberRequest,
    TeamCreate,
    TeamMemberRequest,
    TeamRoleRequest,
)
from pysetl_hub_server.accounts.permissions import Identity
from pysetl_hub_server.governance import invitations, orgs, teams
from pysetl_hub_server.hub import Hub


class OrgController(Controller):
    path = "/api/v1/orgs"
    tags = ["governance"]

    @post("/", status_code=201, summary="Create an organization (you become its owner)")
    async def create(
        self, data: JSONBody[OrgCreate], hub: NamedDependency[Hub], who: NamedDependency[Identity]
    ) -> Organization:
        return await orgs.create(hub, who, data)

    @get("/{org:str}", summary="An organization: members, teams, components")
    async def show(self, org: FromPath[str], hub: NamedDependency[Hub]) -> Organization:
        async with hub.sessions() as session:
            return await orgs.show(session, org)

    @post("/{org:str}/members", status_code=201, summary="Invite a member (owners)")
    async def invite(
        self,
        org: FromPath[str],
        data: JSONBody[OrgMemberRequest],
        hub: NamedDependency[Hub],
        who: NamedDependency[Identity],
    ) -> Invitation:
        return await invitations.invite_to_org(hub, who, org, data)

    @delete(
        "/{org:str}/members/{username:str}",
        status_code=200,
        summary="Remove a member (owners), or leave",
    )
    async def remove_member(
        self,
        org: FromPath[str],
        username: FromPath[str],
        hub: NamedDependency[Hub],
        who: NamedDependency[Identity],
    ) -> Organization:
        return await orgs.remove_member(hub, who, org, username)

    @post("/{org:str}/teams", status_code=201, summary="Create a team (owners)")
    async def create_team(
        self,
        org: FromPath[str],
        data: JSONBody[TeamCreate],
        hub: NamedDependency[Hub],
        who: NamedDependency[Identity],
    ) -> Organization:
        return await teams.create_team(hub, who, org, data)

    @post(
        "/{org:str}/teams/{team:str}/members",
        status_code=200,
        summary="Add an organization member to a team (owners)",
    )
    async def add_team_member(
        self,
        org: FromPath[str],
        team: FromPath[str],
        data: JSONBody[TeamMemberRequest],
        hub: NamedDependency[Hub],
        who: NamedDependency[Identity],
    ) -> Organization:
        return await teams.add_team_member(hub, who, org, team, data)

    @delete(
        "/{org:str}/teams/{team:str}/members/{username:str}",
        status_code=200,
        summary="Remove a user from a team (owners)",
    )
    async def remove_team_member(
        self,
        org: FromPath[str],
        team: FromPath[str],
        username: FromPath[str],
        hub: NamedDependency[Hub],
        who: NamedDependency[Identity],
    ) -> Organization:
        return await teams.remove_team_member(hub, who, org, team, username)

    @put(
        "/{org:str}/teams/{team:str}/roles",
        status_code=200,
        summary="Give a team a role on a component of the organization (its owners)",
    )
    async def set_team_role(
        self,
        org: FromPath[str],
        team: FromPath[str],
        data: JSONBody[TeamRoleRequest],
        hub: NamedDependency[Hub],
        who: NamedDependency[Identity],
    ) -> Organization:
        return await teams.set_team_role(hub, who, org, team, data)

    @delete(
        "/{org:str}/teams/{team:str}/roles/{component:str}",
        status_code=200,
        summary="Take a team's role on a component away (its owners)",
    )
    async def remove_team_role(
        self,
        org: FromPath[str],
        team: FromPath[str],
        component: FromPath[str],
        hub: NamedDependency[Hub],
        who: NamedDependency[Identity],
    ) -> Organization:
        return await teams.remove_team_role(hub, who, org, team, component)
