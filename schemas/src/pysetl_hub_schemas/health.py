"""Liveness and readiness bodies."""

from __future__ import annotations

from pysetl_hub_schemas.base import Response


class HealthPart(Response):
    """One dependency's state in `/readyz`: `ok` or `error` (what failed, by type), and how
    long the check took."""

    status: str
    latency_ms: float
    error: str | None = None


class Health(Response):
    """`/healthz` and `/readyz` body. `status`: ok, degraded (search is down: reads and
    publishes still work) or unavailable (the database or storage is down: 503). `checks` is
    each part's state as one string (`ok`, `error: TypeName`); `parts` the same with latency."""

    status: str
    checks: dict[str, str] = {}
    parts: dict[str, HealthPart] = {}
