"""The hub's Prometheus metrics, defined once and recorded by small calls where things happen.

prometheus_client is imported on first use, never at import time: `serve --workers N` imports
this module in the parent process before it sets PROMETHEUS_MULTIPROC_DIR (multiproc.py), and
the workers it forks must build their values on the shared files. Every metric is named in
docs/operations/monitor.md, and deploy/prometheus/alerts.yml uses only these names (a test
checks both against a live server's /metrics).
"""

from __future__ import annotations

import functools
import os
import re
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from prometheus_client import Counter, Gauge, Histogram

PREFIX: Final = "pysetl_hub_"
# From a hot-path answer (~0.1 ms) to a slow upload; upper buckets catch stalls.
LATENCY_BUCKETS: Final = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
)  # fmt: skip
METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED: Final = "unmatched"  # the route label of a request no route matched (a 404)
# Caches whose lookups are counted (the `cache` label).
INDEX_PAGE: Final = "index_page"
FILE: Final = "file"
WEB_PAGE: Final = "web_page"
SEARCH_PAGE: Final = "search_page"
SEARCH_ANSWER: Final = "search_answer"


@dataclass(frozen=True, slots=True)
class _Metrics:
    requests: Histogram
    publish: Counter
    attestations: Counter
    cache_lookups: Counter
    cache_bytes: Gauge
    cache_budget: Gauge
    cache_entries: Gauge
    flushes: Counter
    flush_rows: Counter
    pool: Gauge


@functools.cache
def _metrics() -> _Metrics:
    from prometheus_client import Counter, Gauge, Histogram

    return _Metrics(
        requests=Histogram(
            f"{PREFIX}http_request_duration_seconds",
            "Time to answer a request, by route template, method and status class.",
            ["route", "method", "status"],
            buckets=LATENCY_BUCKETS,
        ),
        publish=Counter(
            f"{PREFIX}publish_outcomes",
            "Uploads by outcome (accepted, refused) and code (created, unchanged, or the "
            "problem code of the refusal).",
            ["outcome", "code"],
        ),
        attestations=Counter(
            f"{PREFIX}attestation_verifications",
            "Attestation checks at upload: verified, refused (reason: the problem code) or none.",
            ["result", "reason"],
        ),
        cache_lookups=Counter(
            f"{PREFIX}cache_lookups",
            "Cache lookups by cache and result (hit, miss).",
            ["cache", "result"],
        ),
        cache_bytes=Gauge(
            f"{PREFIX}cache_bytes",
            "Bytes a cache holds, summed over the live worker processes.",
            ["cache"],
            multiprocess_mode="livesum",
        ),
        cache_budget=Gauge(
            f"{PREFIX}cache_budget_bytes",
            "The byte budget of a cache in one worker process.",
            ["cache"],
            multiprocess_mode="livemax",
        ),
        cache_entries=Gauge(
            f"{PREFIX}cache_entries",
            "Entries a cache holds, summed over the live worker processes.",
            ["cache"],
            multiprocess_mode="livesum",
        ),
        flushes=Counter(
            f"{PREFIX}download_flushes",
            "Flushes of the in-memory download counts to the database, by result (ok, error).",
            ["result"],
        ),
        flush_rows=Counter(
            f"{PREFIX}download_flush_rows",
            "Per-day download rows written (one per component per flush).",
        ),
        pool=Gauge(
            f"{PREFIX}db_pool_connections",
            "Database connections of the pools, by state (size: open, checked_out: in use), "
            "summed over the live worker processes.",
            ["state"],
            multiprocess_mode="livesum",
        ),
    )


# -- requests and cache lookups (on the hot path: buffered) ----------------------------------------
#
# prometheus_client's observe() and inc() take a lock per value (a file write with several
# workers): ~3 us per request, a fifth of a hot-path answer. So each request adds to plain
# per-process tallies (~0.5 us), and `flush()` moves them into the metrics: at every scrape in
# the worker that answers it, and every second in each worker (FLUSH_INTERVAL), so a scrape
# sees other workers' requests at most that late.

FLUSH_INTERVAL: Final = 1.0
_TYPED: Final = re.compile(r"\{(\w+):[^}]*\}")
_STATUS: Final = ("0xx", "1xx", "2xx", "3xx", "4xx", "5xx")
_routes: dict[str, str] = {}  # Litestar's template -> the label (bounded by the routes)
# (route, method, status) -> a count per bucket (the last one +Inf), then the sum of seconds
_latency: dict[tuple[str, str, str], list[float]] = {}
_lookups: dict[tuple[str, bool], int] = {}


def route_label(template: str) -> str:
    """`/simple/{name:str}` as `/simple/{name}`: hot-path and routed answers share labels."""
    label = _routes.get(template)
    if label is None:
        label = _routes[template] = _TYPED.sub(r"{\1}", template)
    return label


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    key = (
        route,
        method if method in METHODS else "other",
        _STATUS[status // 100] if 0 <= status < 600 else "5xx",
    )
    row = _latency.get(key)
    if row is None:
        row = _latency[key] = [0] * (len(LATENCY_BUCKETS) + 2)
    row[bisect_left(LATENCY_BUCKETS, seconds)] += 1  # the first bucket whose bound >= seconds
    row[-1] += seconds


def cache_lookup(cache: str, *, hit: bool) -> None:
    key = (cache, hit)
    _lookups[key] = _lookups.get(key, 0) + 1


def flush() -> None:
    """Move the tallies into the metrics (the shared files, with several workers)."""
    global _latency, _lookups
    latency, _latency = _latency, {}
    lookups, _lookups = _lookups, {}
    m = _metrics()
    for key, row in latency.items():
        child = m.requests.labels(*key)
        for i, count in enumerate(row[:-1]):
            if count:
                child._buckets[i].inc(count)
        child._sum.inc(row[-1])
    for (cache, hit), count in lookups.items():
        m.cache_lookups.labels(cache, "hit" if hit else "miss").inc(count)


# -- domain outcomes -------------------------------------------------------------------------------


def published(code: str, *, accepted: bool) -> None:
    _metrics().publish.labels("accepted" if accepted else "refused", code).inc()


def attestation(result: str, reason: str = "") -> None:
    """`result`: verified, refused (with the problem code as `reason`) or none."""
    _metrics().attestations.labels(result, reason).inc()


def downloads_flushed(rows: int, *, ok: bool = True) -> None:
    m = _metrics()
    m.flushes.labels("ok" if ok else "error").inc()
    if rows:
        m.flush_rows.inc(rows)


# -- per-process gauges, sampled (sampler.py) ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CacheUsage:
    entries: int
    bytes: int | None = None  # None where counting would cost too much
    budget: int | None = None  # bytes; None where the cache is bounded by entries only


def set_cache_usage(cache: str, usage: CacheUsage) -> None:
    m = _metrics()
    m.cache_entries.labels(cache).set(usage.entries)
    if usage.bytes is not None:
        m.cache_bytes.labels(cache).set(usage.bytes)
    if usage.budget is not None:
        m.cache_budget.labels(cache).set(usage.budget)


def set_pool(size: int, checked_out: int) -> None:
    m = _metrics()
    m.pool.labels("size").set(size)
    m.pool.labels("checked_out").set(checked_out)


# -- exposition ------------------------------------------------------------------------------------


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def exposition(extra: Callable[[], list[Any]]) -> tuple[bytes, str]:
    """The text format of every metric: aggregated over the worker processes' files when
    several workers share a directory, else this process's registry; `extra()` adds the
    families read at scrape time (database-wide values every worker would report alike)."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    flush()
    registry = CollectorRegistry(auto_describe=False)
    if (path := multiprocess_dir()) is not None:
        MultiProcessCollector(registry, path=path)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Families(REGISTRY.collect))
    registry.register(_Families(extra))
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _Families:
    """A collector made of a function that returns metric families."""

    def __init__(self, collect: Callable[[], Any]) -> None:
        self.collect = collect


def process_exited() -> None:
    """Write the last tallies; drop this worker's live gauges from the shared files."""
    flush()
    if multiprocess_dir() is not None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
