"""Applies the search outbox to the engine: right after each commit, on start, and every few
seconds (which also picks up rows other replicas or a crashed process left behind)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pysetl_hub_server.db import models
from pysetl_hub_server.periodic import Periodic
from pysetl_hub_server.search import documents
from pysetl_hub_server.search.engine import SearchEngine

log = logging.getLogger(__name__)
BATCH = 500
# Run before the documents of `names` (None: every component) are read, in its own transaction:
# derived data the documents carry (the quality score) is brought up to date there.
Prepare = Callable[[AsyncSession, list[str] | None], Awaitable[None]]


class Indexer:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        engine: SearchEngine,
        interval: float = 2.0,
    ) -> None:
        self._sessions = sessions
        self.engine = engine
        self._sweeper = Periodic("search-indexer", self.drain, interval)
        self._lock = asyncio.Lock()
        self._listeners: list[Callable[[list[str]], None]] = []
        # Whether the engine's own set-up (index, settings) is done: an engine that is down at
        # start must not stop the hub from serving; the sweeper sets it up once it answers.
        self._engine_ready = False
        self.prepare: Prepare | None = None

    def on_indexed(self, listener: Callable[[list[str]], None]) -> None:
        """Call `listener(names)` once the engine answers with those components' new state
        (cached search answers must not outlive the index they were read from)."""
        self._listeners.append(listener)

    def _indexed(self, names: list[str]) -> None:
        for listener in self._listeners:
            listener(names)

    async def drain(self) -> int:
        """Index every component named in the outbox; returns how many rows were applied."""
        applied = 0
        async with self._lock:
            if not self._engine_ready:
                await self.engine.start()
                self._engine_ready = True
            while True:
                async with self._sessions() as session:
                    rows = list(
                        await session.execute(
                            select(models.SearchOutbox.id, models.SearchOutbox.component)
                            .order_by(models.SearchOutbox.id)
                            .limit(BATCH)
                        )
                    )
                    if not rows:
                        return applied
                    names = sorted({r.component for r in rows})
                await self._prepare(names)
                async with self._sessions() as session:
                    docs = await documents.load(session, names)
                found = {d.name for d in docs}
                await self.engine.index(docs)
                await self.engine.remove([n for n in names if n not in found])
                self._indexed(names)
                async with self._sessions() as session, session.begin():
                    await session.execute(
                        delete(models.SearchOutbox).where(
                            models.SearchOutbox.id.in_([r.id for r in rows])
                        )
                    )
                applied += len(rows)

    async def _prepare(self, names: list[str] | None) -> None:
        """A failure is logged and the documents are indexed as they are: search must not stop
        because derived data could not be brought up to date."""
        if self.prepare is None:
            return
        try:
            async with self._sessions() as session, session.begin():
                await self.prepare(session, names)
        except Exception:
            log.warning("preparing the search documents of %s failed", names, exc_info=True)

    async def reindex(self) -> int:
        """Rebuild the whole index from the database."""
        async with self._lock:
            await self._prepare(None)
            async with self._sessions() as session:
                docs = await documents.load(session)
                last = await session.scalar(
                    select(models.SearchOutbox.id).order_by(models.SearchOutbox.id.desc()).limit(1)
                )
            await self.engine.clear()
            for i in range(0, len(docs), BATCH):
                await self.engine.index(docs[i : i + BATCH])
            self._indexed([d.name for d in docs])
            if last is not None:
                async with self._sessions() as session, session.begin():
                    await session.execute(
                        delete(models.SearchOutbox).where(models.SearchOutbox.id <= last)
                    )
        return len(docs)

    def kick(self) -> None:
        """Apply the outbox now (after a commit); rows stay there until applied."""
        self._sweeper.wake()

    async def start(self) -> None:
        try:
            await self.drain()  # sets the engine up first
        except Exception:
            # Publishing goes on: changes wait in the outbox until the engine answers.
            log.warning("search index catch-up failed; retrying in the background", exc_info=True)
        self._sweeper.start()

    async def stop(self) -> None:
        await self._sweeper.stop()
        await self.engine.close()
