"""Trending from scripted download histories: what rises over the last 7 days against the
average week of the 28 days before, and what does not (flat, falling, quarantined)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from pysetl_hub_server.db import models
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.stats.services import trending
from tests.support.live import LiveServer

TODAY = date(2026, 6, 30)


async def history(hub: Hub, name: str, daily: dict[int, int], *, quarantined: bool = False) -> int:
    """A component whose downloads `daily[n]` fell n days before TODAY."""
    async with hub.sessions() as session, session.begin():
        c = models.Component(
            name=name,
            display_name=name,
            ultra_name=name,
            quarantined_at=datetime.now(UTC) if quarantined else None,
        )
        session.add(c)
        await session.flush()
        for ago, n in daily.items():
            session.add(
                models.DownloadCount(component_id=c.id, day=TODAY - timedelta(days=ago), count=n)
            )
        return c.id


def every_day(first: int, last: int, n: int) -> dict[int, int]:
    return dict.fromkeys(range(first, last + 1), n)


@pytest.mark.asyncio
async def test_rising_components_rank_by_their_rise(offline_hub: Hub) -> None:
    # 7 a week before, 70 this week: (70 - 7) / sqrt(8) = 22.3
    rocket = await history(offline_hub, "rocket", {**every_day(7, 34, 1), **every_day(0, 6, 10)})
    # 700 a week before, 1400 this week: (1400 - 700) / sqrt(701) = 26.4
    big = await history(offline_hub, "big", {**every_day(7, 34, 100), **every_day(0, 6, 200)})
    # New this week, 3 downloads: 3 / sqrt(1) = 3
    new = await history(offline_hub, "newcomer", {0: 3})
    await history(offline_hub, "flat", every_day(0, 34, 5))  # the same every week
    await history(offline_hub, "falling", {**every_day(7, 34, 10), **every_day(0, 6, 1)})
    await history(offline_hub, "hidden", every_day(0, 6, 50), quarantined=True)
    # The old burst is out of range: 1 / sqrt(1) = 1
    await history(offline_hub, "ancient", {40: 1000, 0: 1})

    async with offline_hub.sessions() as session:
        found = await trending(session, TODAY, limit=10)
    assert [t.component_id for t in found][:3] == [big, rocket, new]
    ancient = found[3]
    assert len(found) == 4 and ancient.last_7_days == 1 and ancient.weekly_before == 0
    second = found[1]
    assert second.last_7_days == 70 and second.weekly_before == 7.0
    assert round(second.score, 1) == 22.3
    async with offline_hub.sessions() as session:
        assert [t.component_id for t in await trending(session, TODAY, limit=2)] == [big, rocket]


def test_the_home_page_lists_trending_components(
    live: LiveServer, http: httpx.Client, published_catalog: str
) -> None:
    async def rising(hub: Hub) -> None:
        async with hub.sessions() as session, session.begin():
            cid = await session.scalar(
                models.Component.__table__.select()
                .with_only_columns(models.Component.id)
                .where(models.Component.name == "daily-sales-pipeline")
            )
            today = datetime.now(UTC).date()
            session.add(models.DownloadCount(component_id=cid, day=today, count=5))

    live.run(rising)
    page = http.get("/", headers={"Accept-Language": "en"}).text
    section = page.split('id="trending"', 1)[1].split("</section>", 1)[0]
    assert "daily-sales-pipeline" in section and "csv-dedupe" not in section
