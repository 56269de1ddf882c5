"""Live changes: Server-Sent Events of the feed, coherent across replicas.

Each process keeps one `Serials` watcher: while a stream is open it reads the journal's
highest serial every `stream_poll` seconds (and at once when this process commits a change),
so a change made through any replica reaches every replica's streams. Streams wait on it, then
read their next page from the database like any feed reader.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import msgspec
from litestar.response import ServerSentEventMessage
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pysetl_hub_server.audit.services import last_serial
from pysetl_hub_server.feed.services import changes_page
from pysetl_hub_server.periodic import Periodic
from pysetl_hub_server.settings import Feed

BATCH = 100


class Serials:
    """The journal's highest serial as this process last saw it; wakes waiting streams."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], interval: float) -> None:
        self._sessions = sessions
        self.head = -1
        self._moved = asyncio.Event()
        self.listeners = 0
        self._poller = Periodic("feed-serial-poll", self.poll_once, interval)

    async def poll_once(self) -> None:
        if self.listeners == 0 and self.head >= 0:
            return
        async with self._sessions() as session:
            head = await last_serial(session)
        if head != self.head:
            self.head = head
            self._moved.set()
            self._moved = asyncio.Event()

    def wake(self) -> None:
        self._poller.wake()

    async def wait_past(self, serial: int, seconds: float) -> None:
        """Return once the head is past `serial`, or after `seconds`."""
        if self.head > serial:
            return
        moved = self._moved
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(moved.wait(), seconds)

    def start(self) -> None:
        self._poller.start()

    async def stop(self) -> None:
        await self._poller.stop()


async def events(
    sessions: async_sessionmaker[AsyncSession], serials: Serials, settings: Feed, since: int
) -> AsyncIterator[ServerSentEventMessage]:
    """Changes after `since` as they happen: `id:` is the serial, `data:` the `Change` JSON; a
    `: heartbeat` comment every `heartbeat` seconds of quiet; ends after `stream_lifetime`."""
    serials.listeners += 1
    try:
        ends = time.monotonic() + settings.stream_lifetime
        cursor = since
        yield ServerSentEventMessage(data=None, retry=int(settings.stream_poll * 1000) + 1000)
        quiet_since = time.monotonic()
        while time.monotonic() < ends:
            async with sessions() as session:
                page = await changes_page(session, cursor, BATCH)
            for change in page.changes:
                yield ServerSentEventMessage(
                    data=msgspec.json.encode(change).decode(), id=change.serial
                )
                quiet_since = time.monotonic()
            cursor = page.next
            if page.more:
                continue
            if time.monotonic() - quiet_since >= settings.heartbeat:
                yield ServerSentEventMessage(data=None, comment="heartbeat")
                quiet_since = time.monotonic()
            wait = min(
                settings.heartbeat - (time.monotonic() - quiet_since), ends - time.monotonic()
            )
            await serials.wait_past(cursor, max(wait, 0.01))
    finally:
        serials.listeners -= 1
