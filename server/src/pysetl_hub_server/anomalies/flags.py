"""Raising a flag (one `flag.raise` audit event, once per finding) and reading them back:
a component's flags for its owners, every flag for admins (the same rule as its events)."""

from __future__ import annotations

from typing import Any

from packaging.utils import canonicalize_name
from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_schemas import Flag, FlagPage
from pysetl_hub_server.accounts.permissions import Identity, authorize, require_admin
from pysetl_hub_server.audit.chain import lock_head
from pysetl_hub_server.audit.events import newest, view
from pysetl_hub_server.audit.services import Actor, record
from pysetl_hub_server.db import models
from pysetl_hub_server.errors import NotFound
from pysetl_hub_server.i18n.messages import _

ACTION = "flag.raise"
# Flags are raised by the hub itself, not on anyone's behalf.
CHECKER = Actor(None, "anomaly-check")


async def raise_flag(
    session: AsyncSession,
    component: models.Component,
    kind: str,
    key: str,
    evidence: dict[str, Any],
) -> int | None:
    """Record the flag in the caller's transaction, unless this finding (`kind`, `key`) was
    flagged before; returns the event's serial, or None when it was. The chain head is locked
    first, so two replicas that find the same thing at once raise it once."""
    await lock_head(session)
    details = await session.scalars(
        select(models.AuditEvent.detail).where(
            models.AuditEvent.action == ACTION, models.AuditEvent.component_id == component.id
        )
    )
    if any(d.get("kind") == kind and d.get("key") == key for d in details):
        return None
    return await record(
        session,
        ACTION,
        actor=CHECKER,
        component_id=component.id,
        target=f"component:{component.name}",
        detail={"kind": kind, "key": key, **evidence},
    )


async def component_flags(
    session: AsyncSession, who: Identity, name: str, before: int | None, per_page: int
) -> FlagPage:
    component = await session.scalar(
        select(models.Component).where(models.Component.name == canonicalize_name(name))
    )
    if component is None:
        raise NotFound("component.missing", _("no component named {name!r} on this hub", name=name))
    await authorize(session, who, component, "events")
    return await _page(
        session, who, models.AuditEvent.component_id == component.id, before, per_page
    )


async def all_flags(
    session: AsyncSession, who: Identity, before: int | None, per_page: int
) -> FlagPage:
    require_admin(who, _("read every anomaly flag"))
    return await _page(session, who, None, before, per_page)


async def _page(
    session: AsyncSession,
    who: Identity,
    where: ColumnElement[bool] | None,
    before: int | None,
    per_page: int,
) -> FlagPage:
    flagged = models.AuditEvent.action == ACTION
    rows, more = await newest(
        session, flagged if where is None else flagged & where, before, per_page
    )
    flags = []
    for event, component in rows:
        shown = view(event, component, who)  # masks what the audit rules mask
        detail = dict(shown.detail)
        kind = str(detail.pop("kind", ""))
        flags.append(
            Flag(id=event.id, created=event.created, component=component, kind=kind, detail=detail)
        )
    return FlagPage(flags=flags, next_before=flags[-1].id if more and flags else None)
