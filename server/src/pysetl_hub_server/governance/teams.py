"""Teams of an organization: members, and a role on each of the organization's components.

Only an organization's owners change its teams; a team's role counts as a direct one in
`accounts/permissions.py`.
"""

from __future__ import annotations

from packaging.utils import canonicalize_name
from sqlalchemy import select

from pysetl_hub_schemas import Organization, TeamCreate, TeamMemberRequest, TeamRoleRequest
from pysetl_hub_server.accounts.permissions import Identity, authorize
from pysetl_hub_server.audit.services import record, touch
from pysetl_hub_server.db import models
from pysetl_hub_server.errors import Conflict, NotFound
from pysetl_hub_server.governance import lookup
from pysetl_hub_server.governance.orgs import member_role, org_view, require_org_owner
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.i18n.messages import _


async def create_team(hub: Hub, who: Identity, name: str, data: TeamCreate) -> Organization:
    async with hub.sessions() as session:
        org = await lookup.org(session, name)
        await require_org_owner(
            session, who, org, _("create teams in {org!r}", org=org.display_name)
        )
        team_name = canonicalize_name(data.name)
        exists = await session.scalar(
            select(models.Team.id).where(
                models.Team.org_id == org.id, models.Team.name == team_name
            )
        )
        if exists is not None:
            raise Conflict(
                "team.exists",
                _(
                    "{org!r} already has a team {team_name!r}",
                    org=org.display_name,
                    team_name=team_name,
                ),
            )
        session.add(models.Team(org_id=org.id, name=team_name))
        await record(
            session,
            "team.create",
            actor=who.actor,
            target=f"org:{org.name}",
            detail={"team": team_name},
        )
        await session.commit()
        return await org_view(session, org)


async def add_team_member(
    hub: Hub, who: Identity, name: str, team_name: str, data: TeamMemberRequest
) -> Organization:
    async with hub.sessions() as session:
        org = await lookup.org(session, name)
        await require_org_owner(
            session, who, org, _("change the teams of {org!r}", org=org.display_name)
        )
        team = await lookup.team(session, org, team_name)
        target = await lookup.user(session, data.username)
        if await member_role(session, org, target.id) is None:
            raise Conflict(
                "team.not_member",
                _(
                    "{member!r} is not a member of {org!r}, and a team holds members only: "
                    "invite them first (`pysetl-hub orgs members add {org_name} {member}`)",
                    member=target.username,
                    org=org.display_name,
                    org_name=org.name,
                ),
            )
        exists = await session.scalar(
            select(models.TeamMember.id).where(
                models.TeamMember.team_id == team.id, models.TeamMember.user_id == target.id
            )
        )
        if exists is None:
            session.add(models.TeamMember(team_id=team.id, user_id=target.id))
            await record(
                session,
                "team.member.add",
                actor=who.actor,
                target=f"org:{org.name}",
                detail={"team": team.name, "username": target.username},
            )
            await session.commit()
        return await org_view(session, org)


async def remove_team_member(
    hub: Hub, who: Identity, name: str, team_name: str, username: str
) -> Organization:
    async with hub.sessions() as session:
        org = await lookup.org(session, name)
        await require_org_owner(
            session, who, org, _("change the teams of {org!r}", org=org.display_name)
        )
        team = await lookup.team(session, org, team_name)
        target = await lookup.user(session, username)
        row = await session.scalar(
            select(models.TeamMember).where(
                models.TeamMember.team_id == team.id, models.TeamMember.user_id == target.id
            )
        )
        if row is None:
            raise NotFound(
                "team.not_member",
                _(
                    "{member!r} is not in the team {team_name!r}",
                    member=target.username,
                    team_name=team.name,
                ),
            )
        await session.delete(row)
        await record(
            session,
            "team.member.remove",
            actor=who.actor,
            target=f"org:{org.name}",
            detail={"team": team.name, "username": target.username},
        )
        await session.commit()
        return await org_view(session, org)


async def set_team_role(
    hub: Hub, who: Identity, name: str, team_name: str, data: TeamRoleRequest
) -> Organization:
    """Give a team a role on a component the organization owns (an owner of it decides)."""
    async with hub.sessions() as session:
        org = await lookup.org(session, name)
        team = await lookup.team(session, org, team_name)
        c = await lookup.component(session, data.component)
        await authorize(session, who, c, "roles")
        if c.org_id != org.id:
            raise Conflict(
                "team.foreign_component",
                _(
                    "{component!r} does not belong to {org!r}, so its teams cannot hold roles "
                    "on it: transfer it first (`pysetl-hub orgs transfer {component2} "
                    "{org_name}`)",
                    component=c.display_name,
                    org=org.display_name,
                    component2=c.name,
                    org_name=org.name,
                ),
            )
        row = await session.scalar(
            select(models.TeamRole).where(
                models.TeamRole.team_id == team.id, models.TeamRole.component_id == c.id
            )
        )
        if row is None:
            session.add(models.TeamRole(team_id=team.id, component_id=c.id, role=data.role))
        else:
            row.role = data.role
        await touch(
            session,
            c,
            "team.role.set",
            actor=who.actor,
            detail={"organization": org.name, "team": team.name, "role": data.role},
        )
        await session.commit()
        return await org_view(session, org)


async def remove_team_role(
    hub: Hub, who: Identity, name: str, team_name: str, component: str
) -> Organization:
    async with hub.sessions() as session:
        org = await lookup.org(session, name)
        team = await lookup.team(session, org, team_name)
        c = await lookup.component(session, component)
        await authorize(session, who, c, "roles")
        row = await session.scalar(
            select(models.TeamRole).where(
                models.TeamRole.team_id == team.id, models.TeamRole.component_id == c.id
            )
        )
        if row is None:
            raise NotFound(
                "team.role_missing",
                _(
                    "the team {team_name!r} has no role on {component!r}",
                    team_name=team.name,
                    component=c.display_name,
                ),
            )
        # The organization keeps an owner (org.last_owner), so the component does too.
        await session.delete(row)
        await touch(
            session,
            c,
            "team.role.remove",
            actor=who.actor,
            detail={"organization": org.name, "team": team.name, "role": row.role},
        )
        await session.commit()
        return await org_view(session, org)
