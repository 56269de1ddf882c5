"""Domain errors with user-facing text; `problems.py` turns them into problem+json.

Every message names the thing, the rule that failed and the fix; `code` is the stable rule
name clients and tests match on.
"""

from __future__ import annotations

from typing import Any


class HubError(Exception):
    """Base of the server's domain errors."""

    status = 400
    title = "Bad Request"

    def __init__(self, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
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
