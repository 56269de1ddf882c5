"""Download statistics of a component: `GET /api/v1/components/{name}/downloads`."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from msgspec import Meta

from pysetl_hub_schemas.base import ComponentName, Response, Version

Count = Annotated[int, Meta(ge=0)]


class DailyDownloads(Response):
    """Downloads of one UTC day (every file of every release)."""

    day: date
    downloads: Count


class VersionDownloads(Response):
    """Downloads of one version's files."""

    version: Version
    last_30_days: Count
    total: Count


class DownloadStats(Response):
    """A component's downloads: a daily series (oldest first, every day present, zeros
    included), 30-day and all-time totals, and the same totals per version (most downloaded
    first). Counts reach the database every few seconds, so the newest minute may be missing."""

    name: ComponentName
    days: Annotated[int, Meta(ge=1, description="Days in `series`, today (UTC) included.")]
    series: list[DailyDownloads]
    last_30_days: Count
    total: Count
    versions: list[VersionDownloads] = []
