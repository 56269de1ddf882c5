"""The periodic anomaly checks (every `check_interval` seconds, on each replica; a finding is
flagged once whichever replica sees it first): download spikes against each component's own
history, and recent releases that came as an sdist only where earlier ones had wheels."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pysetl_hub_server.anomalies.flags import raise_flag
from pysetl_hub_server.anomalies.stats import spike
from pysetl_hub_server.db import models
from pysetl_hub_server.settings import FlagThresholds

# Days of history a spike is measured against (older days do not describe today's baseline).
HISTORY_DAYS = 90
# Releases younger than this many days are checked for a missing wheel.
RECENT_RELEASE_DAYS = 30


async def check_all(
    sessions: async_sessionmaker[AsyncSession], limits: FlagThresholds, now: datetime | None = None
) -> int:
    """Run every periodic check once; returns how many flags were raised."""
    now = now or datetime.now(UTC)
    async with sessions() as session:
        raised = await download_spikes(session, limits, now.date())
        raised += await sdist_only_releases(session, limits, now)
        await session.commit()
    return raised


async def download_spikes(session: AsyncSession, limits: FlagThresholds, today: date) -> int:
    """For each component downloaded today or yesterday: is its latest day a spike against
    the days before it (missing days count as zero)?"""
    latest_days = await session.execute(
        select(models.DownloadCount.component_id, func.max(models.DownloadCount.day))
        .group_by(models.DownloadCount.component_id)
        .having(func.max(models.DownloadCount.day) >= today - timedelta(days=1))
    )
    raised = 0
    for component_id, latest in latest_days.all():
        since = latest - timedelta(days=HISTORY_DAYS)
        rows = dict(
            (
                await session.execute(
                    select(models.DownloadCount.day, models.DownloadCount.count).where(
                        models.DownloadCount.component_id == component_id,
                        models.DownloadCount.day >= since,
                    )
                )
            ).all()
        )
        first = min(rows)
        history = [
            int(rows.get(first + timedelta(days=i), 0)) for i in range((latest - first).days)
        ]
        found = spike(
            history,
            int(rows[latest]),
            k=limits.spike_k,
            min_days=limits.spike_min_days,
            min_count=limits.spike_min_count,
        )
        if found is None:
            continue
        component = await session.get(models.Component, component_id)
        assert component is not None
        evidence = {
            "day": latest.isoformat(),
            "downloads": found.count,
            "median": found.median,
            "mad": found.mad,
            "k": limits.spike_k,
            "threshold": round(found.threshold, 2),
            "history_days": len(history),
        }
        if await raise_flag(session, component, "download_spike", latest.isoformat(), evidence):
            raised += 1
    return raised


async def sdist_only_releases(session: AsyncSession, limits: FlagThresholds, now: datetime) -> int:
    """A release older than `wheel_grace` seconds (its wheels had time to arrive) that has an
    sdist and no wheel, where an earlier release of the component had a wheel: installing it
    runs its build backend, code the earlier wheels never ran."""
    window = (
        select(models.Release)
        .where(
            models.Release.created >= now - timedelta(days=RECENT_RELEASE_DAYS),
            models.Release.created <= now - timedelta(seconds=limits.wheel_grace),
        )
        .order_by(models.Release.id)
    )
    raised = 0
    for release in list(await session.scalars(window)):
        kinds = {f.packagetype for f in release.files}
        if kinds != {"sdist"}:
            continue
        earlier = await session.scalar(
            select(models.Release.version)
            .join(models.File)
            .where(
                models.Release.component_id == release.component_id,
                models.Release.created < release.created,
                models.File.packagetype == "bdist_wheel",
            )
            .order_by(models.Release.created.desc())
            .limit(1)
        )
        if earlier is None:
            continue
        component = await session.get(models.Component, release.component_id)
        assert component is not None
        evidence = {
            "version": release.version,
            "reason": "sdist without wheels",
            "files": sorted(f.filename for f in release.files),
            "previous_version_with_wheels": earlier,
        }
        if await raise_flag(session, component, "install_time_code", release.version, evidence):
            raised += 1
    return raised
