"""Liveness (`/healthz`: the process answers) and readiness (`/readyz`: it can do work).

Readiness checks each part the hub depends on, at once and each within a time limit, and
reports them separately with their latency. The database and blob storage are needed for
almost every request: either down makes the replica unready (503), so a load balancer sends
traffic elsewhere. The search engine is not: index pages, downloads and publishes keep working
without it (changes wait in the outbox), so search down is reported as `degraded` with 200;
taking every replica out of rotation for it would turn a search outage into a total one.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable

from litestar import Response, get
from litestar.di import NamedDependency
from sqlalchemy import text

from pysetl_hub_schemas import Health, HealthPart
from pysetl_hub_server.hub import Hub

CHECK_TIMEOUT = 3.0  # seconds; under the usual probe timeout, so a hung part reads as an error
REQUIRED = ("database", "storage")  # either down: 503


@get("/healthz", tags=["ops"], summary="Liveness")
async def healthz() -> Health:
    return Health(status="ok")


async def _database(hub: Hub) -> None:
    async with hub.sessions() as session:
        await session.execute(text("SELECT 1"))


async def _storage(hub: Hub) -> None:
    temp = hub.blobs.temp_dir()
    if temp is None:  # an object store: one metadata request
        await hub.blobs.size("readyz-probe")
        return
    # A local directory: a missing or read-only root answers `size` with None, so look at it.
    root = temp.parent

    def usable() -> None:
        for path in (root, temp):
            if not path.is_dir():
                raise FileNotFoundError(f"{path} is not a directory")
            if not os.access(path, os.W_OK | os.X_OK):
                raise PermissionError(f"{path} is not writable")

    await asyncio.to_thread(usable)


async def _search(hub: Hub) -> None:
    await hub.search.ping()


CHECKS: dict[str, Callable[[Hub], Awaitable[None]]] = {
    "database": _database,
    "storage": _storage,
    "search": _search,
}


async def _check(hub: Hub, probe: Callable[[Hub], Awaitable[None]]) -> HealthPart:
    started = time.perf_counter()
    error: str | None = None
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            await probe(hub)
    except Exception as exc:  # readiness reports, it does not raise
        error = "Timeout" if isinstance(exc, TimeoutError) else type(exc).__name__
    latency = round((time.perf_counter() - started) * 1000, 3)
    return HealthPart(status="ok" if error is None else "error", latency_ms=latency, error=error)


@get(
    "/readyz",
    tags=["ops"],
    summary="Readiness: database, storage and search, each with its latency (503: database or "
    "storage down; search down is `degraded`, still 200)",
)
async def readyz(hub: NamedDependency[Hub]) -> Response[Health]:
    results = await asyncio.gather(*(_check(hub, probe) for probe in CHECKS.values()))
    parts = dict(zip(CHECKS, results, strict=True))
    checks = {n: "ok" if p.error is None else f"error: {p.error}" for n, p in parts.items()}
    if any(parts[name].error for name in REQUIRED):
        status, code = "unavailable", 503
    elif any(p.error for p in parts.values()):
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    return Response(Health(status=status, checks=checks, parts=parts), status_code=code)
