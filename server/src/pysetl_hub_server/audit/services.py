"""The audit journal. Each event's id is a serial: caches and ETags key on it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_server.db.models import AuditEvent, Component, SearchOutbox


async def record(
    session: AsyncSession,
    action: str,
    *,
    user_id: int | None = None,
    component_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> int:
    """Append an event inside the caller's transaction; return its serial."""
    event = AuditEvent(
        action=action, user_id=user_id, component_id=component_id, detail=detail or {}
    )
    session.add(event)
    await session.flush()
    return event.id


async def touch(
    session: AsyncSession,
    component: Component,
    action: str,
    *,
    user_id: int | None,
    detail: dict[str, Any] | None = None,
) -> int:
    """Record a change to a component, move its serial forward, and queue its search update
    (in the same transaction, so the index cannot miss a committed change)."""
    serial = await record(
        session, action, user_id=user_id, component_id=component.id, detail=detail
    )
    component.last_serial = serial
    session.add(SearchOutbox(component=component.name))
    return serial


async def last_serial(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.coalesce(func.max(AuditEvent.id), 0))) or 0)
