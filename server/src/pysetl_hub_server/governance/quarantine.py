"""What hub admins do: quarantine a component, prohibit names, reserve name prefixes for an
organization, and grant or revoke the admin role (server CLI only).

A quarantined component is hidden from the simple index, search and the public JSON API; its
files are kept for review but not served, and uploads to it are refused. Its owners still see
it in the JSON API, with the reason, which is also an event on the component.
"""

from __future__ import annotations

from datetime import UTC, datetime

from packaging.utils import canonicalize_name
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_schemas import ProhibitedName, QuarantineState, ReservedPrefix
from pysetl_hub_server.accounts.permissions import Identity, effective_role, require_admin
from pysetl_hub_server.audit.services import Actor, record, touch
from pysetl_hub_server.components.names import ultranormalize
from pysetl_hub_server.db import models
from pysetl_hub_server.errors import Conflict, Forbidden, NotFound
from pysetl_hub_server.governance import lookup
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.i18n.messages import Message, _


def require_hub_admin(who: Identity, words: Message) -> Actor:
    """The admin rule (`permissions.require_admin`), on a credential that may manage."""
    require_admin(who, words)
    lookup.require_account(who, words)
    return who.actor


async def admins(session: AsyncSession) -> list[str]:
    return sorted(
        await session.scalars(select(models.User.username).where(models.User.is_admin.is_(True)))
    )


async def refuse_if_quarantined(
    session: AsyncSession, c: models.Component, refused: Message | None = None
) -> None:
    """Uploads to a quarantined component are refused, and so is deleting its files (kept for
    the admins' review, so its owner cannot remove the evidence), saying why and whom to ask."""
    if c.quarantined_at is None:
        return
    names = await admins(session)
    refused = refused or _("uploads are refused")
    raise Forbidden(
        "component.quarantined",
        _(
            "{component!r} is quarantined by the hub's admins ({reason}): {refused} and its files"
            " are not served until an admin releases it; contact a hub admin ({admins}) to have "
            "it reviewed",
            component=c.display_name,
            reason=c.quarantine_reason or _("no reason given"),
            refused=refused,
            admins=", ".join(names) or _("the server operator"),
        ),
        reason=c.quarantine_reason,
        admins=names,
    )


async def can_see(session: AsyncSession, viewer: Identity | None, c: models.Component) -> bool:
    """Whether `viewer` may see `c` in the JSON API: anyone, unless it is quarantined; then
    only the people who hold a role on it (so they learn why) and admins."""
    if c.quarantined_at is None:
        return True
    if viewer is None:
        return False
    return viewer.is_admin or await effective_role(session, viewer.user_id, c) is not None


async def require_visible(
    session: AsyncSession, viewer: Identity | None, c: models.Component
) -> None:
    """A 404, as for a name never published, to whoever may not see `c` (`can_see`): every
    public read of a component (its page, roles, publishers) asks this first."""
    if not await can_see(session, viewer, c):
        raise NotFound(
            "component.missing", _("no component named {component!r} on this hub", component=c.name)
        )


def state(c: models.Component) -> QuarantineState:
    return QuarantineState(
        component=c.name,
        quarantined=c.quarantined_at is not None,
        reason=c.quarantine_reason,
        since=c.quarantined_at,
    )


async def quarantine(hub: Hub, actor: Actor, name: str, reason: str) -> QuarantineState:
    async with hub.sessions() as session:
        c = await lookup.component(session, name)
        c.quarantined_at = c.quarantined_at or datetime.now(UTC)
        c.quarantine_reason = reason
        await touch(session, c, "component.quarantine", actor=actor, detail={"reason": reason})
        await session.commit()
        view = state(c)
    hub.changed(c.name)
    return view


async def release(hub: Hub, actor: Actor, name: str) -> QuarantineState:
    async with hub.sessions() as session:
        c = await lookup.component(session, name)
        if c.quarantined_at is not None:
            reason = c.quarantine_reason
            c.quarantined_at = None
            c.quarantine_reason = None
            await touch(session, c, "component.release", actor=actor, detail={"was": reason})
            await session.commit()
        view = state(c)
    hub.changed(c.name)
    return view


async def prohibit(hub: Hub, actor: Actor, name: str, reason: str) -> ProhibitedName:
    """No new component may take `name` or a look-alike (components/names.py enforces it)."""
    normalized = canonicalize_name(name)
    async with hub.sessions() as session:
        row = await session.get(models.ProhibitedName, normalized)
        if row is None:
            row = models.ProhibitedName(
                name=normalized, ultra_name=ultranormalize(name), reason=reason
            )
            session.add(row)
        else:
            row.reason = reason
        await record(
            session,
            "name.prohibit",
            actor=actor,
            target=f"name:{normalized}",
            detail={"reason": reason},
        )
        await session.commit()
    return ProhibitedName(name=normalized, reason=reason)


async def reserve_prefix(hub: Hub, actor: Actor, organization: str, prefix: str) -> ReservedPrefix:
    """Only members of `organization` may create `prefix` or `prefix-*` from now on."""
    normalized = canonicalize_name(prefix)
    async with hub.sessions() as session:
        org = await lookup.org(session, organization)
        row = await session.get(models.ReservedPrefix, normalized)
        if row is not None and row.org_id != org.id:
            holder = await lookup.org_name(session, row.org_id)
            raise Conflict(
                "prefix.taken",
                _(
                    "the prefix {normalized!r} is already reserved for {holder!r}",
                    normalized=normalized,
                    holder=holder,
                ),
                organization=holder,
            )
        if row is None:
            session.add(models.ReservedPrefix(prefix=normalized, org_id=org.id))
            await record(
                session,
                "prefix.reserve",
                actor=actor,
                target=f"org:{org.name}",
                detail={"prefix": normalized},
            )
            await session.commit()
    return ReservedPrefix(prefix=normalized, organization=org.name)


async def set_admin(hub: Hub, actor: Actor, username: str, is_admin: bool) -> None:
    """Grant or revoke the hub admin role (the server CLI's `admin grant|revoke`)."""
    async with hub.sessions() as session:
        user = await lookup.user(session, username)
        user.is_admin = is_admin
        await record(
            session,
            "user.admin.grant" if is_admin else "user.admin.revoke",
            actor=actor,
            target=f"user:{user.username}",
        )
        await session.commit()
