"""Download statistics, summed from the per-day rows `downloads.py` flushes.

Every replica adds its own in-memory counts to the same rows (an upsert that adds), so what is
read here is the sum over replicas and survives restarts; only the last few seconds of counts,
not yet flushed, are missing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from sqlalchemy import case, func, literal_column, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_schemas import DailyDownloads, DownloadStats, VersionDownloads
from pysetl_hub_server.accounts.permissions import Identity
from pysetl_hub_server.bounds import MAX_DAYS
from pysetl_hub_server.db import models
from pysetl_hub_server.errors import BadRequest, NotFound
from pysetl_hub_server.governance.quarantine import can_see
from pysetl_hub_server.i18n.messages import _

RECENT = 30  # days of the "last 30 days" totals, today included
TREND_WINDOW = 7  # days of the trending window, today included
TREND_BASELINE = 28  # days before the window that it is compared with


def _version_key(version: str) -> tuple[int, Version | str]:
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


async def component_downloads(
    session: AsyncSession, viewer: Identity | None, name: str, days: int, today: date
) -> DownloadStats:
    """`days` of daily downloads ending `today` (zeros included), the totals, and per version."""
    component = await session.scalar(
        select(models.Component).where(models.Component.name == canonicalize_name(name))
    )
    if component is None or not await can_see(session, viewer, component):
        raise NotFound("component.missing", _("no component named {name!r} on this hub", name=name))
    if not 1 <= days <= MAX_DAYS:
        raise BadRequest("downloads.days", _("days must be between 1 and {most}", most=MAX_DAYS))
    first = today - timedelta(days=days - 1)
    recent_since = today - timedelta(days=RECENT - 1)
    per_day, per_file = models.DownloadCount, models.FileDownloadCount
    # One statement, so one snapshot: a flush of another replica lands in both tables at once,
    # and separate reads could see it in one and not the other (SQLite reads outside a
    # transaction statement by statement): the series, the totals and the versions agree.
    daily: Any = select(
        literal_column("'day'").label("kind"),
        per_day.day,
        null().label("version"),
        per_day.count.label("total"),
        literal_column("0").label("recent"),
    ).where(per_day.component_id == component.id)
    per_version: Any = (
        select(
            literal_column("'version'"),
            null(),
            per_file.version,
            func.sum(per_file.count),
            func.sum(case((per_file.day >= recent_since, per_file.count), else_=0)),
        )
        .where(per_file.component_id == component.id)
        .group_by(per_file.version)
    )
    rows: Sequence[Any] = (await session.execute(union_all(daily, per_version))).all()
    by_day: dict[date, int] = {}
    by_version: list[VersionDownloads] = []
    for kind, day, version, n, recent_n in rows:
        if kind == "day":
            by_day[day] = int(n)
        else:
            by_version.append(
                VersionDownloads(version=version, total=int(n), last_30_days=int(recent_n))
            )
    total = sum(by_day.values())
    recent = sum(n for day, n in by_day.items() if day >= recent_since)
    by_version.sort(key=lambda v: (v.total, _version_key(v.version)), reverse=True)
    return DownloadStats(
        name=component.display_name,
        days=days,
        series=[
            DailyDownloads(day=d, downloads=by_day.get(d, 0))
            for d in (first + timedelta(days=i) for i in range(days))
        ],
        last_30_days=int(recent),
        total=int(total),
        versions=by_version,
    )


@dataclass(frozen=True, slots=True)
class Trend:
    component_id: int
    last_7_days: int
    weekly_before: float  # the average week of the 28 days before

    @property
    def score(self) -> float:
        return (self.last_7_days - self.weekly_before) / math.sqrt(self.weekly_before + 1)


async def trending(session: AsyncSession, today: date, limit: int = 6) -> list[Trend]:
    """Visible components downloaded more in the last 7 days than in an average week of the
    28 days before, ranked by how far above that week they are in Poisson standard deviations,
    (last 7 days - week before) / sqrt(week before + 1): a doubling from 700 outranks a first
    handful of downloads, a rise from 7 to 70 outranks both; flat or falling ones are left out."""
    window = today - timedelta(days=TREND_WINDOW - 1)
    since = window - timedelta(days=TREND_BASELINE)
    per_day = models.DownloadCount
    rows = await session.execute(
        select(
            per_day.component_id,
            func.sum(case((per_day.day >= window, per_day.count), else_=0)),
            func.sum(case((per_day.day < window, per_day.count), else_=0)),
        )
        .join(models.Component, models.Component.id == per_day.component_id)
        .where(per_day.day >= since, models.Component.quarantined_at.is_(None))
        .group_by(per_day.component_id)
    )
    trends = [
        Trend(cid, int(recent), int(before) * TREND_WINDOW / TREND_BASELINE)
        for cid, recent, before in rows
    ]
    rising = [t for t in trends if t.last_7_days > t.weekly_before]
    rising.sort(key=lambda t: (-t.score, -t.last_7_days, t.component_id))
    return rising[:limit]
