"""Read models of the audit trail: who may read which events, and which fields they see.

- A component's events: its owners (the `events` rule: the owner role and a `manage` token).
- A user's own security events (`/me/events`): events about the user (`target` `user:<name>`:
  their tokens, sign-ins, leaked-token revocations) and the account actions they did.
- Every event: hub admins.

IP address and user agent are personal data: an admin sees them, and so does the user who did
the action or whom it is about (a failed sign-in on your account shows you where it came from).
A component's owners do not see their co-maintainers' or publishers' addresses; they see what
was done, by whom, and when. E-mail addresses never leave: any in a detail are masked.
"""

from __future__ import annotations

from typing import Any

from packaging.utils import canonicalize_name
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_schemas import AuditEvent, AuditEventPage
from pysetl_hub_server.accounts.permissions import (
    Identity,
    authorize,
    require_admin,
    require_person,
)
from pysetl_hub_server.db import models
from pysetl_hub_server.errors import NotFound
from pysetl_hub_server.i18n.messages import _
from pysetl_hub_server.security.masking import redact

# Actions a user did that belong in their own security log (when the target is not themselves).
SECURITY_ACTIONS = ("user.", "token.", "session.", "signin.", "totp.", "recovery.", "leak.")


async def component_events(
    session: AsyncSession, who: Identity, name: str, before: int | None, per_page: int
) -> AuditEventPage:
    component = await session.scalar(
        select(models.Component).where(models.Component.name == canonicalize_name(name))
    )
    if component is None:
        raise NotFound("component.missing", _("no component named {name!r} on this hub", name=name))
    await authorize(session, who, component, "events")
    where = models.AuditEvent.component_id == component.id
    return await _page(session, who, where, before, per_page)


async def my_events(
    session: AsyncSession, who: Identity, before: int | None, per_page: int
) -> AuditEventPage:
    require_person(who, _("read its user's security events"))
    mine = models.AuditEvent.user_id == who.user_id
    where = or_(
        models.AuditEvent.target == f"user:{who.username}",
        *(mine & models.AuditEvent.action.startswith(p) for p in SECURITY_ACTIONS),
    )
    return await _page(session, who, where, before, per_page)


async def all_events(
    session: AsyncSession, who: Identity, before: int | None, per_page: int
) -> AuditEventPage:
    require_admin(who, _("read the whole audit trail"))
    return await _page(session, who, None, before, per_page)


async def newest(
    session: AsyncSession,
    where: ColumnElement[bool] | None,
    before: int | None,
    per_page: int,
) -> tuple[list[tuple[models.AuditEvent, str | None]], bool]:
    """Events newest first, before the serial `before`, with their component's display name,
    and whether more follow: the one query the audit listings and the anomaly flags page by."""
    query = (
        select(models.AuditEvent, models.Component.display_name)
        .outerjoin(models.Component, models.Component.id == models.AuditEvent.component_id)
        .order_by(models.AuditEvent.id.desc())
        .limit(per_page + 1)
    )
    if where is not None:
        query = query.where(where)
    if before is not None:
        query = query.where(models.AuditEvent.id < before)
    rows: list[tuple[models.AuditEvent, str | None]] = [
        (event, component) for event, component in await session.execute(query)
    ]
    return rows[:per_page], len(rows) > per_page


async def _page(
    session: AsyncSession,
    who: Identity,
    where: ColumnElement[bool] | None,
    before: int | None,
    per_page: int,
) -> AuditEventPage:
    rows, more = await newest(session, where, before, per_page)
    events = [view(event, component, who) for event, component in rows]
    return AuditEventPage(events=events, next_before=events[-1].id if more and events else None)


def may_see_origin(event: models.AuditEvent, who: Identity) -> bool:
    """May `who` see where the event came from (IP address, user agent)?"""
    return (
        who.is_admin
        or (event.user_id is not None and event.user_id == who.user_id)
        or event.target == f"user:{who.username}"
    )


def view(event: models.AuditEvent, component: str | None, who: Identity) -> AuditEvent:
    shown = may_see_origin(event, who)
    return AuditEvent(
        id=event.id,
        created=event.created,
        action=event.action,
        actor=event.actor,
        target=event.target,
        component=component,
        detail=_scrub(event.detail or {}),
        ip=event.ip if shown else None,
        user_agent=event.user_agent if shown else None,
    )


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value
