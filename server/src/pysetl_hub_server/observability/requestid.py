"""The request id: one per request, in every log line written while it is handled.

A client (or the proxy in front) may send its own in `X-Request-ID`, so one id follows a request
through every hop; it is kept only when it is short and made of a safe charset, so a hostile
header can never inject line breaks, escapes or megabytes into the logs. Anything else is
replaced by a fresh id."""

from __future__ import annotations

import itertools
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


class _Ids:
    """Ids unique across processes without a system call per request: 64 random bits drawn
    once per process (again in each forked worker), then a counter."""

    def __init__(self) -> None:
        self.reseed()

    def reseed(self) -> None:
        self.prefix = os.urandom(8).hex()
        self.counter = itertools.count(int.from_bytes(os.urandom(4)))

    def next(self) -> str:
        return f"{self.prefix}{next(self.counter):016x}"  # 2**64 requests before it grows


_ids = _Ids()
os.register_at_fork(after_in_child=_ids.reseed)


def new_id() -> str:
    """32 hex digits: a process's random prefix and its request counter."""
    return _ids.next()


def accepted(raw: bytes | None) -> str | None:
    """The client's id when it is sane, else None (and the caller makes one)."""
    if raw is None or _SANE.fullmatch(raw) is None:
        return None
    return raw.decode("ascii")


def current() -> str | None:
    """The id of the request being handled, None outside a request."""
    return REQUEST_ID.get()
