"""The audit trail's hash chain: each event commits to its content and to the event before it.

An edited event no longer matches its own hash; a deleted or reordered one breaks the link
(`prev_hash`) of the event after it; a deleted newest event leaves `audit_head` pointing at an
id that is gone. `verify` walks the chain once and names the first bad event.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_server.db.models import AuditEvent, AuditHead

GENESIS = "0" * 64


def event_hash(event: AuditEvent, prev_hash: str) -> str:
    """SHA-256 over a canonical JSON of everything the event says, and the previous hash."""
    created = event.created.astimezone(UTC) if event.created.tzinfo else event.created
    body = {
        "id": event.id,
        "prev": prev_hash,
        "created": created.replace(tzinfo=UTC).isoformat(timespec="microseconds"),
        "action": event.action,
        "actor": event.actor,
        "target": event.target,
        "user_id": event.user_id,
        "component_id": event.component_id,
        "ip": event.ip,
        "user_agent": event.user_agent,
        "detail": event.detail or {},
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def lock_head(session: AsyncSession) -> AuditHead:
    """The chain head, locked for this transaction: writers queue here, so ids and links are
    given in one order (a row lock on PostgreSQL; SQLite has one writer anyway)."""
    head = await session.scalar(select(AuditHead).where(AuditHead.id == 1).with_for_update())
    if head is None:  # a database made by create_all() in a test, not by migrations
        head = AuditHead(id=1, count=0)
        session.add(head)
        await session.flush()
    return head


async def append(session: AsyncSession, event: AuditEvent) -> int:
    """Link `event` after the head, insert it, and move the head; in the caller's transaction."""
    head = await lock_head(session)
    if event.created is None:
        event.created = datetime.now(UTC)
    event.created = event.created.astimezone(UTC)
    session.add(event)
    await session.flush()  # gives the id, which the hash covers
    prev = head.last_hash or GENESIS
    event.prev_hash = prev
    event.hash = event_hash(event, prev)
    if head.first_id is None:
        head.first_id = event.id
    head.last_id = event.id
    head.last_hash = event.hash
    head.count = (head.count or 0) + 1
    await session.flush()
    return event.id


@dataclass(frozen=True, slots=True)
class Verdict:
    """What `audit verify` found: the number of events checked, and the first bad one."""

    checked: int
    bad_id: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.bad_id is None and not self.problem


async def _chained(session: AsyncSession, first_id: int) -> AsyncIterator[AuditEvent]:
    result = await session.stream_scalars(
        select(AuditEvent).where(AuditEvent.id >= first_id).order_by(AuditEvent.id)
    )
    async for event in result:
        yield event


async def verify(session: AsyncSession) -> Verdict:
    head = await session.get(AuditHead, 1)
    if head is None or head.first_id is None:
        return Verdict(0)
    prev = GENESIS
    checked = 0
    last: AuditEvent | None = None
    async for event in _chained(session, head.first_id):
        if event.prev_hash != prev:
            what = "was reordered, or the event before it was deleted or edited"
            if checked == 0:
                what = "does not start the chain: an event before it was deleted"
            return Verdict(checked, event.id, f"event {event.id} {what} (its link does not match)")
        if event.hash != event_hash(event, prev):
            return Verdict(
                checked, event.id, f"event {event.id} was edited (its content does not match)"
            )
        prev = event.hash
        checked += 1
        last = event
    if checked != head.count or last is None or last.id != head.last_id:
        return Verdict(
            checked,
            head.last_id,
            f"the chain ends at event {last.id if last else 'none'} but its head says "
            f"{head.last_id} after {head.count} events: the newest events were deleted",
        )
    return Verdict(checked)
