"""Organizations: members (owner or member), and the components they own (teams: teams.py).

Members join by invitation (invitations.py). An owner of an organization is an owner of every
component it owns; a team gets a role on one of those components. A component moves into an
organization by `transfer`, which takes an owner of both.
"""

from __future__ import annotations

from packaging.utils import canonicalize_name
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_schemas import (
    Organization,
    OrgCreate,
    OrgMember,
    Team,
    TeamRole,
)
from pysetl_hub_server.accounts.permissions import Identity, authorize
from pysetl_hub_server.audit.services import record, touch
from pysetl_hub_server.components.names import ultranormalize
from pysetl_hub_server.db import models
from pysetl_hub_server.errors import Conflict, Forbidden, NotFound
from pysetl_hub_server.governance import lookup
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.i18n.messages import Message, _


async def org_owners(session: AsyncSession, org: models.Organization) -> list[str]:
    return sorted(
        await session.scalars(
            select(models.User.username)
            .join(models.OrgMember, models.OrgMember.user_id == models.User.id)
            .where(models.OrgMember.org_id == org.id, models.OrgMember.role == "owner")
        )
    )


async def member_role(session: AsyncSession, org: models.Organization, user_id: int) -> str | None:
    return await session.scalar(
        select(models.OrgMember.role).where(
            models.OrgMember.org_id == org.id, models.OrgMember.user_id == user_id
        )
    )


async def require_org_owner(
    session: AsyncSession, who: Identity, org: models.Organization, words: Message
) -> None:
    """As `authorize` for a component: a 403 that names the role needed and who can grant it."""
    lookup.require_account(who, words)
    role = await member_role(session, org, who.user_id)
    if role == "owner":
        return
    owners = await org_owners(session, org)
    have = _("is a {role}", role=role) if role else _("is not a member")
    raise Forbidden(
        "auth.role",
        _(
            "user {user!r} may not {words}: that needs the owner role in the organization "
            "{org!r} and {user!r} {have}; an owner of {org!r} ({owners}) can grant it with "
            "`pysetl-hub orgs members add {org_name} {user} --owner`",
            user=who.username,
            words=words,
            org=org.display_name,
            have=have,
            owners=", ".join(owners) or _("an admin"),
            org_name=org.name,
        ),
        needed_role="owner",
        role=role,
        granted_by=owners,
    )


async def org_view(session: AsyncSession, org: models.Organization) -> Organization:
    members = [
        OrgMember(username=name, role=role)  # type: ignore[arg-type]
        for name, role in await session.execute(
            select(models.User.username, models.OrgMember.role)
            .join(models.OrgMember, models.OrgMember.user_id == models.User.id)
            .where(models.OrgMember.org_id == org.id)
            .order_by(models.OrgMember.role.desc(), models.User.username)
        )
    ]
    teams = []
    for team in await session.scalars(
        select(models.Team).where(models.Team.org_id == org.id).order_by(models.Team.name)
    ):
        names = await session.scalars(
            select(models.User.username)
            .join(models.TeamMember, models.TeamMember.user_id == models.User.id)
            .where(models.TeamMember.team_id == team.id)
            .order_by(models.User.username)
        )
        roles = await session.execute(
            select(models.Component.name, models.TeamRole.role)
            .join(models.TeamRole, models.TeamRole.component_id == models.Component.id)
            .where(models.TeamRole.team_id == team.id, models.Component.quarantined_at.is_(None))
            .order_by(models.Component.name)
        )
        teams.append(
            Team(
                name=team.name,
                members=list(names),
                roles=[TeamRole(component=c, role=r) for c, r in roles],  # type: ignore[arg-type]
            )
        )
    components = await session.scalars(
        select(models.Component.name)
        .where(models.Component.org_id == org.id, models.Component.quarantined_at.is_(None))
        .order_by(models.Component.name)
    )
    prefixes = await session.scalars(
        select(models.ReservedPrefix.prefix)
        .where(models.ReservedPrefix.org_id == org.id)
        .order_by(models.ReservedPrefix.prefix)
    )
    return Organization(
        name=org.name,
        display_name=org.display_name,
        members=members,
        teams=teams,
        components=list(components),
        prefixes=list(prefixes),
    )


async def show(session: AsyncSession, name: str) -> Organization:
    return await org_view(session, await lookup.org(session, name))


async def _check_new_org_name(session: AsyncSession, name: str) -> None:
    """An organization's name speaks for it (on its pages, in its reserved prefixes): not a
    prohibited name, and not a look-alike of another organization's, folded as component
    names are (case, separators, l/i/1 and o/0)."""
    ultra = ultranormalize(name)
    prohibited = await session.scalar(
        select(models.ProhibitedName.name).where(
            (models.ProhibitedName.name == canonicalize_name(name))
            | (models.ProhibitedName.ultra_name == ultra)
        )
    )
    if prohibited is not None:
        raise Forbidden(
            "name.prohibited",
            _(
                "{name!r} may not be used on this hub ({prohibited!r} is prohibited): choose "
                "another name",
                name=name,
                prohibited=prohibited,
            ),
        )
    for existing in await session.scalars(select(models.Organization.display_name)):
        if ultranormalize(existing) == ultra:
            raise Conflict(
                "org.too_similar",
                _(
                    "{name!r} is too similar to the organization {existing!r} (the same once "
                    "separators, case and look-alike letters such as l/1 and o/0 are folded): "
                    "choose a clearly different name",
                    name=name,
                    existing=existing,
                ),
            )


async def create(hub: Hub, who: Identity, data: OrgCreate) -> Organization:
    lookup.require_account(who, _("create an organization"))
    normalized = canonicalize_name(data.name)
    async with hub.sessions() as session:
        taken = await session.scalar(
            select(models.Organization.id).where(models.Organization.name == normalized)
        )
        if taken is not None:
            raise Conflict(
                "org.exists",
                _("the organization {name!r} already exists: pick another name", name=data.name),
            )
        await _check_new_org_name(session, data.name)
        await hub.limits.hit("create_name", f"user:{who.user_id}")
        org = models.Organization(name=normalized, display_name=data.name)
        session.add(org)
        await session.flush()
        session.add(models.OrgMember(org_id=org.id, user_id=who.user_id, role="owner"))
        await record(session, "org.create", actor=who.actor, target=f"org:{org.name}")
        try:
            await session.commit()
        except IntegrityError as exc:  # a concurrent create of the same name won
            raise Conflict(
                "org.exists", _("the organization {name!r} already exists", name=data.name)
            ) from exc
        return await org_view(session, org)


async def remove_member(hub: Hub, who: Identity, name: str, username: str) -> Organization:
    """An owner removes a member; a member leaves. The last owner stays."""
    async with hub.sessions() as session:
        org = await lookup.org(session, name, for_update=True)  # two owners leaving at once
        target = await lookup.user(session, username)
        leaving = target.id == who.user_id
        if leaving:
            lookup.require_account(who, _("leave {org!r}", org=org.display_name))
        else:
            await require_org_owner(
                session,
                who,
                org,
                _("remove members of the organization {org!r}", org=org.display_name),
            )
        row = await session.scalar(
            select(models.OrgMember).where(
                models.OrgMember.org_id == org.id, models.OrgMember.user_id == target.id
            )
        )
        if row is None:
            raise NotFound(
                "org.not_member",
                _(
                    "{member!r} is not a member of {org!r}",
                    member=target.username,
                    org=org.display_name,
                ),
            )
        if row.role == "owner":
            others = await session.scalar(
                select(func.count(models.OrgMember.id)).where(
                    models.OrgMember.org_id == org.id,
                    models.OrgMember.role == "owner",
                    models.OrgMember.user_id != target.id,
                )
            )
            if not others:
                raise Conflict(
                    "org.last_owner",
                    _(
                        "{member!r} is the last owner of the organization {org!r} and it must "
                        "keep one: add another owner first (`pysetl-hub orgs members add "
                        "{org_name} USER --owner`, who then accepts)",
                        member=target.username,
                        org=org.display_name,
                        org_name=org.name,
                    ),
                )
        await session.delete(row)
        # Teams hold organization members only.
        team_ids = select(models.Team.id).where(models.Team.org_id == org.id)
        await session.execute(
            delete(models.TeamMember).where(
                models.TeamMember.user_id == target.id, models.TeamMember.team_id.in_(team_ids)
            )
        )
        await record(
            session,
            "org.member.leave" if leaving else "org.member.remove",
            actor=who.actor,
            target=f"org:{org.name}",
            detail={"username": target.username, "role": row.role},
        )
        await session.commit()
        return await org_view(session, org)


async def transfer(hub: Hub, who: Identity, name: str, organization: str) -> Organization:
    """Move a component into an organization: its owners become owners of the component and
    its teams can get roles on it. The caller owns the component and the organization, and,
    when the component already belongs to another organization, that one too: an owner through
    a team (or a direct owner) may not take a component away from its organization's owners."""
    async with hub.sessions() as session:
        c = await lookup.component(session, name)
        await authorize(session, who, c, "transfer")
        org = await lookup.org(session, organization)
        await require_org_owner(
            session,
            who,
            org,
            _("transfer components into the organization {org!r}", org=org.display_name),
        )
        previous = await lookup.org_name(session, c.org_id)
        if c.org_id is not None and c.org_id != org.id:
            current = await session.get(models.Organization, c.org_id)
            assert current is not None  # components.org_id is a foreign key
            await require_org_owner(
                session,
                who,
                current,
                _(
                    "transfer {component!r} out of the organization {display_name!r}",
                    component=c.display_name,
                    display_name=current.display_name,
                ),
            )
        if c.org_id != org.id:
            # Roles of the old organization's teams do not follow the component.
            await session.execute(
                delete(models.TeamRole).where(models.TeamRole.component_id == c.id)
            )
            c.org_id = org.id
            await touch(
                session,
                c,
                "component.transfer",
                actor=who.actor,
                detail={"organization": org.name, "from": previous},
            )
            await session.commit()
        return await org_view(session, org)
