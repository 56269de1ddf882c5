"""Roles on a component: who holds which, from where, and taking one away.

A role is given by invitation only (invitations.py), so nobody gains a role they did not accept.
A role is taken away by an owner, or given up by its holder. A component never loses its last
owner that way: owners of the organization that owns it count, as do members of its teams
with the owner role, so transferring to an organization is the other way out.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_schemas import RoleEntry, RoleList
from pysetl_hub_server.accounts.permissions import RANK, Identity, authorize
from pysetl_hub_server.audit.services import touch
from pysetl_hub_server.db import models
from pysetl_hub_server.errors import Conflict, Forbidden, NotFound
from pysetl_hub_server.governance import lookup, quarantine
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.i18n.messages import _


async def owner_ids(
    session: AsyncSession, c: models.Component, *, without_direct: int | None = None
) -> set[int]:
    """Every user who is an owner of `c` (directly, through its organization or a team),
    leaving out the direct role of `without_direct`."""
    direct = select(models.Role.user_id).where(
        models.Role.component_id == c.id, models.Role.role == "owner"
    )
    if without_direct is not None:
        direct = direct.where(models.Role.user_id != without_direct)
    ids = set(await session.scalars(direct))
    if c.org_id is not None:
        ids.update(
            await session.scalars(
                select(models.OrgMember.user_id).where(
                    models.OrgMember.org_id == c.org_id, models.OrgMember.role == "owner"
                )
            )
        )
        ids.update(
            await session.scalars(
                select(models.TeamMember.user_id)
                .join(models.TeamRole, models.TeamRole.team_id == models.TeamMember.team_id)
                .where(models.TeamRole.component_id == c.id, models.TeamRole.role == "owner")
            )
        )
    return ids


async def role_list(session: AsyncSession, c: models.Component) -> RoleList:
    """Usernames and roles (never e-mail addresses), owners first."""
    entries = [
        RoleEntry(username=name, role=role, via="direct")  # type: ignore[arg-type]
        for name, role in await session.execute(
            select(models.User.username, models.Role.role)
            .join(models.Role, models.Role.user_id == models.User.id)
            .where(models.Role.component_id == c.id)
        )
    ]
    if c.org_id is not None:
        entries += [
            RoleEntry(username=name, role="owner", via="organization")
            for name in await session.scalars(
                select(models.User.username)
                .join(models.OrgMember, models.OrgMember.user_id == models.User.id)
                .where(models.OrgMember.org_id == c.org_id, models.OrgMember.role == "owner")
            )
        ]
        entries += [
            RoleEntry(username=name, role=role, via=f"team:{team}")  # type: ignore[arg-type]
            for name, role, team in await session.execute(
                select(models.User.username, models.TeamRole.role, models.Team.name)
                .join(models.TeamMember, models.TeamMember.user_id == models.User.id)
                .join(models.TeamRole, models.TeamRole.team_id == models.TeamMember.team_id)
                .join(models.Team, models.Team.id == models.TeamRole.team_id)
                .where(models.TeamRole.component_id == c.id)
            )
        ]
    entries.sort(key=lambda e: (-RANK[e.role], e.username, e.via))
    return RoleList(
        component=c.name, organization=await lookup.org_name(session, c.org_id), roles=entries
    )


async def list_roles(session: AsyncSession, name: str, viewer: Identity | None = None) -> RoleList:
    c = await lookup.component(session, name)
    await quarantine.require_visible(session, viewer, c)
    return await role_list(session, c)


def last_owner(username: str, name: str) -> Conflict:
    return Conflict(
        "role.last_owner",
        _(
            "{username!r} is the last owner of {name!r} and a component must keep one: add "
            "another owner first (`pysetl-hub owners add {name} USER`, who then accepts the "
            "invitation) or transfer it to an organization (`pysetl-hub orgs transfer {name} "
            "ORG`)",
            username=username,
            name=name,
        ),
    )


async def remove_role(hub: Hub, who: Identity, name: str, username: str) -> RoleList:
    """An owner removes anyone's direct role; anyone removes their own (leaves)."""
    async with hub.sessions() as session:
        # Locked: two owners removing each other at once must not both find the other left.
        c = await lookup.component(session, name, for_update=True)
        target = await lookup.user(session, username)
        leaving = target.id == who.user_id and who.via != "oidc"
        if leaving:
            if who.components is not None and c.id not in who.components:
                raise Forbidden(
                    "auth.scope",
                    _(
                        "this token is scoped to other components and cannot leave {component!r}",
                        component=c.display_name,
                    ),
                )
            if "manage" not in who.actions:  # giving up a role is managing it
                raise Forbidden(
                    "auth.token_action",
                    _(
                        "this token may only {actions} and cannot give up a role on {component!r}:"
                        " use a token with the 'manage' action",
                        actions=", ".join(sorted(who.actions)) or "read",
                        component=c.display_name,
                    ),
                    needed_action="manage",
                )
        else:
            await authorize(session, who, c, "roles")
        row = await session.scalar(
            select(models.Role).where(
                models.Role.component_id == c.id, models.Role.user_id == target.id
            )
        )
        if row is None:
            raise NotFound(
                "role.missing",
                _(
                    "{member!r} has no direct role on {component!r}; a role held through an "
                    "organization or a team is removed there (`pysetl-hub orgs ...`)",
                    member=target.username,
                    component=c.display_name,
                ),
            )
        if row.role == "owner" and not await owner_ids(session, c, without_direct=target.id):
            raise last_owner(target.username, c.name)
        await session.delete(row)
        await touch(
            session,
            c,
            "role.leave" if leaving else "role.remove",
            actor=who.actor,
            detail={"username": target.username, "role": row.role},
        )
        await session.commit()
        return await role_list(session, c)


async def grant(session: AsyncSession, c: models.Component, user_id: int, role: str) -> models.Role:
    """Give `role` (never lowering one already held): the end of an accepted invitation."""
    row = await session.scalar(
        select(models.Role).where(models.Role.component_id == c.id, models.Role.user_id == user_id)
    )
    if row is None:
        row = models.Role(user_id=user_id, component_id=c.id, role=role)
        session.add(row)
    elif RANK[role] > RANK[row.role]:
        row.role = role
    return row
