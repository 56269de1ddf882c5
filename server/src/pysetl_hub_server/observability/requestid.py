"""The request id: one per request, in every log line written while it is handled.

A client (or the proxy in front) may send its own in `X-Request-ID`, so one id follows a request
through every hop; it is kept only when it is short and made of a safe charset, so a hostile
header can never inject line breaks, escapes or megabytes into the logs. Anything else is
replaced by a fresh id."""

from __future__ import annotations

import os
import re
from contextvars import ContextVar
from typing import Final

HEADER: Final = b"x-request-id"
MAX_LENGTH: Final = 128
# Letters, digits and the punctuation ids are usually made of (UUIDs, ULIDs, base64url, trace
# ids such as `Root=1-5e1b4151-5ac6c58f`); no spaces, quotes, control or non-ASCII characters.
_SANE: Final = re.compile(rb"[A-Za-z0-9._:=+/@-]{1,%d}" % MAX_LENGTH)

REQUEST_ID: ContextVar[str | None] = ContextVar("pysetl_hub_request_id", default=None)


def new_id() -> str:
    """32 hex digits of randomness (a UUID4's worth, without its formatting)."""
    return os.urandom(16).hex()


def accepted(raw: bytes | None) -> str | None:
    """The client's id when it is sane, else None (and the caller makes one)."""
    if raw is None or _SANE.fullmatch(raw) is None:
        return None
    return raw.decode("ascii")


def current() -> str | None:
    """The id of the request being handled, None outside a request."""
    return REQUEST_ID.get()
