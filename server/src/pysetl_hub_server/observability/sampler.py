"""Each worker's tallies flushed into the metrics every second (metrics.flush); its gauges
(cache sizes, database pool) sampled every few seconds and at each scrape; and the database-wide
values (search outbox lag, index serial) read at scrape
time by whichever worker answers, the same for all of them."""

from __future__ import annotations

import itertools
import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.pool import QueuePool

from pysetl_hub_server.db import models
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.observability import metrics
from pysetl_hub_server.periodic import Periodic
from pysetl_hub_server.simple.services import current_serial
from pysetl_hub_server.web.cache import PageMemo

log = logging.getLogger(__name__)
SAMPLE_EVERY = 5  # flushes (seconds)


def sample(hub: Hub, memos: list[PageMemo]) -> None:
    """Set this process's gauges from what its caches and pool hold now."""
    usage = getattr(hub.cache, "usage", None)  # every PageCache the runtime builds has it
    if usage is not None:
        for cache, used in usage().items():
            metrics.set_cache_usage(cache, used)
    answers = hub.search.answers
    if answers is not None:
        held = answers.stats()
        metrics.set_cache_usage(
            metrics.SEARCH_ANSWER, metrics.CacheUsage(held.entries, held.bytes, held.budget)
        )
    for memo in memos:
        metrics.set_cache_usage(memo.kind, memo.usage())
    pool = hub.engine.pool
    if isinstance(pool, QueuePool):
        metrics.set_pool(pool.checkedin() + pool.checkedout(), pool.checkedout())


def sampler(hub: Hub, memos: list[PageMemo]) -> Periodic:
    ticks = itertools.count()

    async def step() -> None:
        metrics.flush()
        if next(ticks) % SAMPLE_EVERY == 0:
            sample(hub, memos)

    return Periodic("metrics-sampler", step, metrics.FLUSH_INTERVAL)


async def database_families(hub: Hub) -> list[Any]:
    """Outbox lag and the index serial; none when the database does not answer (the scrape
    still succeeds, and /readyz says what is wrong)."""
    from prometheus_client.core import GaugeMetricFamily

    try:
        async with hub.sessions() as session:
            pending, oldest = (
                await session.execute(
                    select(
                        func.count(models.SearchOutbox.id), func.min(models.SearchOutbox.created)
                    )
                )
            ).one()
            serial = await current_serial(session)
    except Exception:
        log.warning("metrics: the database did not answer", exc_info=True)
        return []
    age = 0.0
    if oldest is not None:
        oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
        age = max(0.0, (datetime.now(UTC) - oldest).total_seconds())
    p = metrics.PREFIX
    return [
        GaugeMetricFamily(
            f"{p}search_outbox_pending",
            "Changes waiting to be applied to the search engine (search_outbox rows).",
            value=int(pending or 0),
        ),
        GaugeMetricFamily(
            f"{p}search_outbox_oldest_age_seconds",
            "Age of the oldest change waiting for the search engine (0 when none waits).",
            value=age,
        ),
        GaugeMetricFamily(
            f"{p}index_serial",
            "The highest serial of the journal: every change moves it forward.",
            value=serial,
        ),
    ]
