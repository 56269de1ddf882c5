"""Anomaly flags: raised by the hub, read by a component's owners and by admins."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pysetl_hub_schemas.base import Response

FlagKind = Literal[
    "publisher_changed",
    "new_owner_publish",
    "download_spike",
    "name_confusion",
    "install_time_code",
]


class Flag(Response):
    """One raised flag: what looked wrong, and the evidence the check saw."""

    id: int
    """The `flag.raise` audit event's id (the hub's serial)."""
    created: datetime
    component: str | None
    kind: str
    detail: dict[str, Any] = {}


class FlagPage(Response):
    """Flags, newest first; `next_before` pages on (None: no more)."""

    flags: list[Flag]
    next_before: int | None = None
