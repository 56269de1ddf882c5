"""Liveness (`/healthz`: the process answers) and readiness (`/readyz`: it can do work)."""

from __future__ import annotations

from litestar import Response, get
from litestar.di import NamedDependency
from sqlalchemy import text

from pysetl_hub_schemas import Health
from pysetl_hub_server.hub import Hub


@get("/healthz", tags=["ops"], summary="Liveness")
async def healthz() -> Health:
    return Health(status="ok")


@get("/readyz", tags=["ops"], summary="Readiness: database and blob storage reachable")
async def readyz(hub: NamedDependency[Hub]) -> Response[Health]:
    checks: dict[str, str] = {}
    try:
        async with hub.sessions() as session:
            await session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # readiness reports, it does not raise
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        await hub.blobs.size("readyz-probe")
        checks["storage"] = "ok"
    except Exception as exc:
        checks["storage"] = f"error: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    return Response(
        Health(status="ok" if ok else "unavailable", checks=checks),
        status_code=200 if ok else 503,
    )
