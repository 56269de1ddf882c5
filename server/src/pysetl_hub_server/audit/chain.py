"""The audit trail's hash chain: each event commits to its content and to the event before it.

An edited event no longer matches its own hash; a deleted or reordered one breaks the link
(`prev_hash`) of the event after it; a deleted newest event leaves `audit_head` pointing at an
id that is gone. `verify` walks the chain once and names the first bad event.

What the chain cannot show: someone with write access to the database who recomputes every hash
after the one they changed, and the head with them (SHA-256 has no key). `audit verify` prints
the head's hash, so an operator who keeps it elsewhere can tell that rewrite apart too.

The two foreign keys (`user_id`, `component_id`) are lookup indexes that deleting a user or a
component sets to NULL, so they are not hashed; who did it and to what is hashed as `actor` and
`target`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, update
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
        "ip": event.ip,
        "user_agent": event.user_agent,
        "detail": event.detail or {},
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def lock_head(session: AsyncSession) -> AuditHead:
    """The chain head, locked for this transaction: writers queue here, so ids and links are
    given in one order.

    The no-op UPDATE comes first. On PostgreSQL it takes the row lock (as FOR UPDATE would); on
    SQLite it takes the database's write lock, which a SELECT does not: the driver begins the
    transaction at the first write, so two writers that read the head before either wrote
    would both link their event after the same one. Once the lock is held, the head read is the
    newest committed one.
    """
    await session.execute(
        update(AuditHead)
        .where(AuditHead.id == 1)
        .values(count=AuditHead.count)
        .execution_options(synchronize_session=False)
    )
    head = await session.scalar(
        select(AuditHead)
        .where(AuditHead.id == 1)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
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
    head_hash: str = ""  # the newest event's hash: keep it elsewhere to notice a full rewrite

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
    """Walk the chain from its first event: each link, each hash, and the head at the end."""
    head = await session.get(AuditHead, 1)
    first_hashed = await session.scalar(
        select(func.min(AuditEvent.id)).where(AuditEvent.hash.is_not(None))
    )
    if head is None or head.first_id is None:
        if first_hashed is not None:
            return Verdict(
                0,
                first_hashed,
                f"event {first_hashed} is chained but the chain's head "
                f"{'row is gone' if head is None else 'was reset'}: the head was edited",
            )
        return Verdict(0)
    if first_hashed is not None and first_hashed < head.first_id:
        return Verdict(
            0,
            first_hashed,
            f"event {first_hashed} carries a hash but lies before the chain's first event "
            f"{head.first_id}: it was forged, or the head was edited",
        )
    prev = GENESIS
    checked = 0
    last: AuditEvent | None = None
    async for event in _chained(session, head.first_id):
        if event.prev_hash != prev:
            what = "was reordered, or the event before it was deleted, edited or forged"
            if checked == 0:
                what = "does not start the chain: an event before it was deleted"
            return Verdict(checked, event.id, f"event {event.id} {what} (its link does not match)")
        if event.hash != event_hash(event, prev):
            return Verdict(
                checked,
                event.id,
                f"event {event.id} was edited or forged (its content does not match its hash)",
            )
        prev = event.hash
        checked += 1
        last = event
    if last is None or last.id != head.last_id or checked != head.count:
        return Verdict(
            checked,
            head.last_id,
            f"the chain ends at event {last.id if last else 'none'} after {checked} events but "
            f"its head says event {head.last_id} after {head.count}: the newest events were "
            "deleted, or the head was edited",
        )
    if head.last_hash != last.hash:
        return Verdict(
            checked,
            last.id,
            f"the head's hash does not match event {last.id} (the newest): the head was edited",
        )
    return Verdict(checked, head_hash=last.hash or "")
