"""Liveness and readiness bodies."""

from __future__ import annotations

from pysetl_hub_schemas.base import Response


class Health(Response):
    """`/healthz` and `/readyz` body."""

    status: str
    checks: dict[str, str] = {}
