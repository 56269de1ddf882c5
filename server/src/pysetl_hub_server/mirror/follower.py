"""Following the origin: pin its key, read signed pages from the stored cursor, apply them,
retry refused files, and keep going (with backoff) while the origin is away.

The cursor is the origin serial of the last page applied, stored in this hub's database after
each page, so a restarted mirror resumes where it stopped. A file that does not verify (its
bytes, or its attestation) is recorded in `mirror_failures` and retried with backoff; the
cursor moves on, so one bad file never stops the rest of the feed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

import msgspec
from sqlalchemy import delete, select, update

from pysetl_hub_schemas.feed import Change, FeedKey
from pysetl_hub_server.db.models import MirrorFailure, MirrorState
from pysetl_hub_server.errors import HubError
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.mirror.apply import Applier, mirror_identity
from pysetl_hub_server.mirror.origin import Origin, OriginError

log = logging.getLogger(__name__)

MAX_BACKOFF = 300.0  # seconds between tries while the origin is away
MAX_RETRY_DELAY = timedelta(hours=1)


class KeyRefused(Exception):
    """The key at hand is not the pinned one (or the mirror follows another origin)."""


async def pin(
    hub: Hub, origin: Origin, given: FeedKey | None, *, accept_change: bool
) -> MirrorState:
    """The stored state; at the first start the key given, else the origin's well-known one.
    A later start with another key (given, or the origin's now) is refused unless the operator
    accepts the change."""
    async with hub.sessions() as session:
        state = await session.get(MirrorState, 1)
        if state is not None and state.origin != origin.base:
            raise KeyRefused(
                f"this mirror's database follows {state.origin}, not {origin.base}: use a new "
                "data directory (and database) for another origin"
            )
        current = given
        if current is None:
            try:
                current = await origin.feed_key()
            except OriginError:
                if state is None:
                    raise
                current = None  # away now: the pinned key stays
        if state is None:
            assert current is not None
            state = MirrorState(
                id=1, origin=origin.base, key_id=current.key_id, public_key=current.public_key,
                cursor=0,
            )  # fmt: skip
            session.add(state)
            log.info("mirror: pinned the feed key %s of %s", current.key_id, origin.base)
        elif current is not None and current.public_key != state.public_key:
            if not accept_change:
                raise KeyRefused(
                    f"the feed key of {origin.base} is now {current.key_id}, but this mirror "
                    f"pinned {state.key_id}: refused. If the origin's operator rotated the key "
                    "(ask them), restart with --accept-key-change"
                )
            log.warning("mirror: feed key changed from %s to %s", state.key_id, current.key_id)
            state.key_id, state.public_key = current.key_id, current.public_key
        await session.commit()
        return state


def pinned_key(state: MirrorState) -> FeedKey:
    return FeedKey(
        key_id=state.key_id, algorithm="ed25519", public_key=state.public_key, public_key_pem=""
    )


class Follower:
    def __init__(self, hub: Hub, origin: Origin, key: FeedKey, interval: float = 2.0) -> None:
        self.hub, self.origin, self.key, self.interval = hub, origin, key, interval
        self._applier: Applier | None = None

    async def applier(self) -> Applier:
        if self._applier is None:
            self._applier = Applier(self.hub, self.origin, await mirror_identity(self.hub))
        return self._applier

    async def step(self) -> int:
        """Read and apply pages until caught up, then retry due failures; the number of
        changes applied. Raises `OriginError` when the origin is away or a page is refused
        (nothing of that page applied, the cursor unmoved)."""
        applier = await self.applier()
        applied = 0
        async with self.hub.sessions() as session:
            state = await session.get(MirrorState, 1)
            cursor = state.cursor if state is not None else 0
            if state is not None and state.last_error is not None:
                # The origin is back (or its pages verify again): an operator may have repaired
                # what was refused before, so every refused file is tried again now.
                await session.execute(update(MirrorFailure).values(next_try=datetime.now(UTC)))
                await session.commit()
        while True:
            page = await self.origin.page(self.key, cursor)
            for change in page.changes:
                await self._apply(applier, change)
                applied += 1
            cursor = page.next
            await self._save(cursor=cursor, error=None)
            if not page.more:
                break
        await self.retry_due(applier)
        return applied

    async def _apply(self, applier: Applier, change: Change) -> None:
        try:
            await applier.apply(change)
        except (OriginError, HubError) as exc:
            if change.file is None:
                raise
            await self._failed(change, exc)
            return
        if change.action in ("file.upload", "file.delete", "release.delete"):
            names = [change.file.filename] if change.file else change.filenames
            async with self.hub.sessions() as session:
                await session.execute(
                    delete(MirrorFailure).where(MirrorFailure.filename.in_(names))
                )
                await session.commit()

    async def _failed(self, change: Change, exc: OriginError | HubError) -> None:
        code = exc.code
        reason = exc.message if isinstance(exc, OriginError) else str(exc.detail)
        filename = change.file.filename if change.file else ""
        log.error("mirror: %s refused (%s): %s", filename, code, reason)
        now = datetime.now(UTC)
        async with self.hub.sessions() as session:
            row = await session.get(MirrorFailure, filename)
            if row is None:
                row = MirrorFailure(
                    filename=filename, component=change.component or "", serial=change.serial,
                    change=msgspec.json.encode(change).decode(), attempts=0, first_seen=now,
                )  # fmt: skip
                session.add(row)
            row.attempts += 1
            row.code, row.reason = code[:64], reason[:1000]
            delay = timedelta(seconds=self.interval * 2 ** min(row.attempts, 16))
            row.next_try = now + min(delay, MAX_RETRY_DELAY)
            await session.commit()

    async def retry_due(self, applier: Applier) -> None:
        async with self.hub.sessions() as session:
            due = list(
                await session.scalars(
                    select(MirrorFailure.change)
                    .where(MirrorFailure.next_try <= datetime.now(UTC))
                    .order_by(MirrorFailure.serial)
                )
            )
        for raw in due:
            await self._apply(applier, msgspec.json.decode(raw, type=Change))

    async def _save(self, *, cursor: int | None, error: str | None) -> None:
        async with self.hub.sessions() as session:
            state = await session.get(MirrorState, 1)
            if state is None:
                return
            now = datetime.now(UTC)
            if cursor is not None:
                state.cursor = cursor
            if error is None:
                state.last_success = now
            state.last_error = error[:1000] if error else None
            state.updated = now
            await session.commit()

    async def run(self, stop: asyncio.Event) -> None:
        """Follow until `stop` is set: every `interval` while the origin answers, backing off
        (doubling, up to MAX_BACKOFF) while it is away or its pages do not verify."""
        delay = self.interval
        while not stop.is_set():
            try:
                applied = await self.step()
            except OriginError as exc:
                log.warning("mirror: %s (%s); retrying in %.1fs", exc.message, exc.code, delay)
                await self._save(cursor=None, error=f"{exc.code}: {exc.message}")
                wait, delay = delay, min(delay * 2, MAX_BACKOFF)
            except Exception:
                log.exception("mirror: the follower failed; retrying in %.1fs", delay)
                wait, delay = delay, min(delay * 2, MAX_BACKOFF)
            else:
                if applied:
                    log.info("mirror: applied %d changes", applied)
                wait, delay = self.interval, self.interval
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=wait)
