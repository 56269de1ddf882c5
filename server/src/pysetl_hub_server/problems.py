"""The one place that turns errors into RFC 9457 problem+json responses."""

from __future__ import annotations

import errno
import logging
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from pysetl_hub_schemas import Problem
from pysetl_hub_server.errors import HubError, ServiceUnavailable, TooManyRequests, storage_full
from pysetl_hub_server.security.masking import redact

log = logging.getLogger("pysetl_hub_server")

PROBLEM_MEDIA_TYPE = "application/problem+json"


# Set in `request.state` by a handler while the request body has not been read to its end. An
# error answered then closes the connection (RFC 9112 9.6): the rest of the body is never read,
# so a client that reused the connection would have its next request lost in it.
BODY_UNREAD = "body_unread"


def problem_response(
    request: Request[Any, Any, Any],
    status: int,
    title: str,
    detail: str,
    *,
    code: str | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[bytes]:
    """Render an RFC 9457 body. twine shows the HTTP reason, so the detail leads it too."""
    body = Problem(
        title=title,
        status=status,
        detail=detail,
        code=code,
        instance=request.url.path,
        extra=extra,
    )
    if request.state.get(BODY_UNREAD):
        headers = {**(headers or {}), "Connection": "close"}
    # A detail may quote what the client sent (a malformed address, a header): masked like a
    # log line, so an error body never carries a secret or an e-mail address back out.
    return Response(
        content=redact(msgspec.json.encode(body).decode()).encode(),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


# A write the disk (or the user's quota) had no room for, wherever it was: spool, blob, logs.
DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


def hub_error_handler(request: Request[Any, Any, Any], exc: HubError) -> Response[bytes]:
    headers: dict[str, str] | None = None
    if exc.status == 401:
        headers = {"WWW-Authenticate": 'Basic realm="pysetl-hub"'}
    elif isinstance(exc, ServiceUnavailable | TooManyRequests):
        headers = {"Retry-After": str(exc.retry_after)}
    return problem_response(
        request,
        exc.status,
        exc.title,
        exc.detail,
        code=exc.code,
        extra=exc.extra,
        headers=headers,
    )


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    detail = exc.detail
    extra: dict[str, Any] | None = None
    if isinstance(exc, ValidationException) and exc.extra:
        extra = {"errors": exc.extra}
    return problem_response(
        request,
        exc.status_code,
        _reason(exc.status_code),
        detail,
        code=f"http.{exc.status_code}",
        extra=extra,
        headers=exc.headers,
    )


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(
        request,
        HTTP_500_INTERNAL_SERVER_ERROR,
        "Internal Server Error",
        "The server failed to handle this request; it has been logged. Retry, and report it "
        "if it persists.",
        code="internal",
    )


def os_error_handler(request: Request[Any, Any, Any], exc: OSError) -> Response[bytes]:
    """A full disk is the operator's to fix and the client's to know about (507); any other
    OS error is a bug or an outage of ours (500)."""
    if exc.errno in DISK_FULL:
        log.error("no space left while handling %s %s: %s", request.method, request.url.path, exc)
        return hub_error_handler(request, storage_full())
    return internal_error_handler(request, exc)


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


exception_handlers: dict[type[Exception] | int, Any] = {
    HubError: hub_error_handler,
    HTTPException: http_error_handler,
    OSError: os_error_handler,
    Exception: internal_error_handler,
}
