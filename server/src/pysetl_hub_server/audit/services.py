"""The audit journal. Each event's id is a serial: caches and ETags key on it.

Every privileged action appends one event, in the transaction that does the action, through
`record` (or `touch` for a change to a component); `chain.append` links it to the one before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_server.audit.chain import append
from pysetl_hub_server.db.models import AuditEvent, Component, SearchOutbox


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did it, from where: a user (with the request's IP and user agent), a trusted
    publisher acting through a minted token, or the server's own admin CLI."""

    user_id: int | None
    name: str
    ip: str | None = None
    user_agent: str | None = None


ADMIN_CLI = Actor(None, "admin-cli")


async def record(
    session: AsyncSession,
    action: str,
    *,
    actor: Actor | None = None,
    component_id: int | None = None,
    target: str = "",
    detail: dict[str, Any] | None = None,
) -> int:
    """Append an event inside the caller's transaction; return its serial."""
    actor = actor or ADMIN_CLI
    event = AuditEvent(
        action=action,
        user_id=actor.user_id,
        component_id=component_id,
        actor=actor.name,
        target=target,
        ip=actor.ip,
        user_agent=(actor.user_agent or "")[:256] or None,
        detail=detail or {},
    )
    return await append(session, event)


async def touch(
    session: AsyncSession,
    component: Component,
    action: str,
    *,
    actor: Actor | None,
    detail: dict[str, Any] | None = None,
) -> int:
    """Record a change to a component, move its serial forward, and queue its search update
    (in the same transaction, so the index cannot miss a committed change)."""
    serial = await record(
        session,
        action,
        actor=actor,
        component_id=component.id,
        target=f"component:{component.name}",
        detail=detail,
    )
    component.last_serial = serial
    session.add(SearchOutbox(component=component.name))
    return serial


async def last_serial(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.coalesce(func.max(AuditEvent.id), 0))) or 0)
