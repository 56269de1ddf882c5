"""RFC 9457 problem details: the body of every 4xx/5xx from a JSON endpoint."""

from __future__ import annotations

from typing import Any

import msgspec

from pysetl_hub_schemas.base import Response


class Problem(Response):
    """An RFC 9457 problem. `code` is a stable machine-readable rule name."""

    type: str = "about:blank"
    title: str = ""
    status: int = 500
    detail: str = ""
    instance: str | None = None
    code: str | None = msgspec.field(default=None)
    extra: dict[str, Any] | None = None
