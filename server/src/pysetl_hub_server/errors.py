"""Domain errors with user-facing text; `problems.py` turns them into problem+json.

Every message names the thing, the rule that failed and the fix; `code` is the stable rule
name clients and tests match on.
"""

from __future__ import annotations

from typing import Any

from pysetl_hub_server.i18n.messages import Message, _


class HubError(Exception):
    """Base of the server's domain errors.

    `detail` is the English text (logs, the CLI, tests); `message` keeps the msgid and its
    parameters so the problem+json answer can be written in the client's language."""

    status = 400
    title = "Bad Request"

    def __init__(self, code: str, detail: str | Message, **extra: Any) -> None:
        super().__init__(str(detail))
        self.code = code
        self.detail = str(detail)
        self.message: str | Message = detail
        self.extra = extra or None


class InvalidUpload(HubError):
    """The upload breaks a publishing rule."""


class BadRequest(HubError):
    """The request is malformed."""


class Unauthorized(HubError):
    status = 401
    title = "Unauthorized"


class Forbidden(HubError):
    status = 403
    title = "Forbidden"


class RequestTimeout(HubError):
    status = 408
    title = "Request Timeout"


class NotFound(HubError):
    status = 404
    title = "Not Found"


class Conflict(HubError):
    status = 409
    title = "Conflict"


class PayloadTooLarge(HubError):
    status = 413
    title = "Content Too Large"


class ServiceUnavailable(HubError):
    """A part the request needs (the database) is busy or down; the same request may succeed
    after `retry_after` seconds, which `problems.py` sends as the Retry-After header."""

    status = 503
    title = "Service Unavailable"

    def __init__(self, code: str, detail: str | Message, *, retry_after: int, **extra: Any) -> None:
        super().__init__(code, detail, **extra)
        self.retry_after = retry_after


class TooManyRequests(HubError):
    """A rate limit was reached; `retry_after` seconds until the window has room again."""

    status = 429
    title = "Too Many Requests"

    def __init__(self, code: str, detail: str | Message, *, retry_after: int, **extra: Any) -> None:
        super().__init__(code, detail, **extra)
        self.retry_after = retry_after


class InsufficientStorage(HubError):
    """The server's disk (or its database's) is full: nothing of the request was kept."""

    status = 507
    title = "Insufficient Storage"


def storage_full() -> InsufficientStorage:
    """The one answer to a full disk, wherever the write that failed was (spool, blob, SQLite,
    PostgreSQL)."""
    return InsufficientStorage(
        "storage.full",
        _(
            "the hub's storage is full: nothing of this request was kept; the operator must "
            "free disk space (or raise the quota) before it can succeed, then send it again"
        ),
    )
