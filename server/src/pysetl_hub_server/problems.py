"""The one place that turns errors into RFC 9457 problem+json responses."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from pysetl_hub_schemas import Problem
from pysetl_hub_server.errors import HubError

log = logging.getLogger("pysetl_hub_server")

PROBLEM_MEDIA_TYPE = "application/problem+json"


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    code: str | None = None,
    instance: str | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[bytes]:
    """Render an RFC 9457 body. twine shows the HTTP reason, so the detail leads it too."""
    body = Problem(
        title=title, status=status, detail=detail, code=code, instance=instance, extra=extra
    )
    return Response(
        content=msgspec.json.encode(body),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def hub_error_handler(request: Request[Any, Any, Any], exc: HubError) -> Response[bytes]:
    headers = {"WWW-Authenticate": 'Basic realm="pysetl-hub"'} if exc.status == 401 else None
    return problem_response(
        exc.status,
        exc.title,
        exc.detail,
        code=exc.code,
        instance=request.url.path,
        extra=exc.extra,
        headers=headers,
    )


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    detail = exc.detail
    extra: dict[str, Any] | None = None
    if isinstance(exc, ValidationException) and exc.extra:
        extra = {"errors": exc.extra}
    return problem_response(
        exc.status_code,
        _reason(exc.status_code),
        detail,
        code=f"http.{exc.status_code}",
        instance=request.url.path,
        extra=extra,
        headers=exc.headers,
    )


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(
        HTTP_500_INTERNAL_SERVER_ERROR,
        "Internal Server Error",
        "The server failed to handle this request; it has been logged. Retry, and report it "
        "if it persists.",
        code="internal",
        instance=request.url.path,
    )


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


exception_handlers: dict[type[Exception] | int, Any] = {
    HubError: hub_error_handler,
    HTTPException: http_error_handler,
    Exception: internal_error_handler,
}
