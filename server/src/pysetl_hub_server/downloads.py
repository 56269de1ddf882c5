"""Download counts: kept in memory per request (the hot path must not write to the database),
added to per-day totals every few seconds, and fed to search as the 30-day count."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pysetl_hub_server.db import models
from pysetl_hub_server.observability import metrics
from pysetl_hub_server.periodic import Periodic

log = logging.getLogger(__name__)
RECENT_DAYS = 30


def project_of(filename: str) -> str | None:
    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(filename)[0]
        return parse_sdist_filename(filename)[0]
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None


async def recent(session: AsyncSession, names: list[str] | None = None) -> dict[int, int]:
    """Downloads per component id over the last 30 days."""
    since = datetime.now(UTC).date() - timedelta(days=RECENT_DAYS)
    stmt = (
        select(models.DownloadCount.component_id, func.sum(models.DownloadCount.count))
        .where(models.DownloadCount.day >= since)
        .group_by(models.DownloadCount.component_id)
    )
    if names is not None:
        stmt = stmt.join(models.Component).where(models.Component.name.in_(names))
    return {cid: int(n) for cid, n in await session.execute(stmt)}


class DownloadCounter:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        dialect: str,
        interval: float = 30.0,
        on_flush: Callable[[], None] = lambda: None,
    ) -> None:
        self._on_flush = on_flush
        self._sessions = sessions
        self._dialect = dialect
        self._counts: Counter[str] = Counter()
        self._flusher = Periodic("download-counts", self._flush_and_reindex, interval)

    def count(self, filename: str) -> None:
        name = project_of(filename)
        if name is not None:
            self._counts[name] += 1

    async def flush(self) -> list[str]:
        """Add the counts so far to today's totals; queue the components for re-indexing."""
        counts, self._counts = self._counts, Counter()
        if not counts:
            return []
        today = datetime.now(UTC).date()
        insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert
        try:
            async with self._sessions() as session, session.begin():
                rows = await session.execute(
                    select(models.Component.id, models.Component.name).where(
                        models.Component.name.in_(list(counts))
                    )
                )
                found = list(rows)
                for cid, name in found:
                    stmt = insert(models.DownloadCount).values(
                        component_id=cid, day=today, count=counts[name]
                    )
                    await session.execute(
                        stmt.on_conflict_do_update(
                            index_elements=["component_id", "day"],
                            set_={"count": models.DownloadCount.count + stmt.excluded.count},
                        )
                    )
                    session.add(models.SearchOutbox(component=name))
        except Exception:
            self._counts.update(counts)  # keep them for the next flush
            metrics.downloads_flushed(0, ok=False)
            raise
        metrics.downloads_flushed(len(found))
        return [name for _, name in found]

    async def _flush_and_reindex(self) -> None:
        if await self.flush():
            self._on_flush()

    def start(self) -> None:
        self._flusher.start()

    async def stop(self) -> None:
        await self._flusher.stop()
        try:
            await self.flush()
        except Exception:  # shutting down: the counts are lost, the service is not
            log.warning("final download counts flush failed", exc_info=True)
