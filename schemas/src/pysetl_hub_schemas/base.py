"""Base Structs: the two flags every wire type carries.

Requests are strict (unknown fields are an error, so typos surface at once); responses are
lenient (new fields get defaults, so an old client reads a newer server).
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta


class Request(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of every request body: unknown fields are rejected."""


class Response(msgspec.Struct, kw_only=True, omit_defaults=False):
    """Base of every response body: readers ignore fields they do not know."""


ComponentName = Annotated[
    str,
    Meta(
        pattern=r"^([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])$(?!\n)",
        max_length=128,
        description="Distribution name (PEP 508); compared in PEP 503 normalized form.",
        examples=["csv-dedupe"],
    ),
]
Version = Annotated[
    str,
    Meta(max_length=64, description="PEP 440 version.", examples=["1.2.0"]),
]
Sha256 = Annotated[
    str,
    Meta(pattern=r"^[0-9a-f]{64}$(?!\n)", description="Lower-case hex SHA-256 digest."),
]
