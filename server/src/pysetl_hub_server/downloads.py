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


def parse_filename(filename: str) -> tuple[str, str] | None:
    """(normalized project name, version) of a distribution filename."""
    try:
        if filename.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(filename)
        else:
            name, version = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return name, str(version)


def project_of(filename: str) -> str | None:
    parsed = parse_filename(filename)
    return parsed[0] if parsed else None


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
        if parse_filename(filename) is not None:
            self._counts[filename] += 1

    async def flush(self) -> list[str]:
        """Add the counts so far to today's totals (per component and per file) in one
        transaction; queue the components for re-indexing."""
        files, self._counts = self._counts, Counter()
        if not files:
            return []
        today = datetime.now(UTC).date()
        parsed = {f: p for f in files if (p := parse_filename(f)) is not None}
        counts: Counter[str] = Counter()
        for filename, (name, _version) in parsed.items():
            counts[name] += files[filename]
        insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert
        try:
            async with self._sessions() as session, session.begin():
                rows = await session.execute(
                    select(models.Component.id, models.Component.name).where(
                        models.Component.name.in_(list(counts))
                    )
                )
                found = list(rows)
                ids = {name: cid for cid, name in found}
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
                for filename, (name, version) in sorted(parsed.items()):
                    if name not in ids:
                        continue
                    per_file = insert(models.FileDownloadCount).values(
                        component_id=ids[name],
                        day=today,
                        filename=filename,
                        version=version,
                        count=files[filename],
                    )
                    await session.execute(
                        per_file.on_conflict_do_update(
                            index_elements=["component_id", "day", "filename"],
                            set_={
                                "count": models.FileDownloadCount.count + per_file.excluded.count
                            },
                        )
                    )
        except Exception:
            self._counts.update(files)  # keep them for the next flush
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
