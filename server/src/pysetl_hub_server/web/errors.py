"""Error pages: what a browser gets instead of problem+json, in the reader's language.

Handlers of the web routes raise the same domain errors as the API; here they become a page
that says what happened and what to do. A path no route knows is a 404 page for a browser
(it asks for text/html) and a problem for every other client."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException

from pysetl_hub_server.errors import HubError
from pysetl_hub_server.i18n.messages import Message
from pysetl_hub_server.problems import (
    http_error_handler,
    hub_error_handler,
    internal_error_handler,
)
from pysetl_hub_server.web.context import HTML, bare_page, language_of

log = logging.getLogger("pysetl_hub_server")
AnyRequest = Request[Any, Any, Any]


def wants_html(request: AnyRequest) -> bool:
    accept = request.headers.get("accept", "")
    path = request.url.path
    if path.startswith(("/api/", "/simple/", "/files/", "/schema/openapi")):
        return False
    return "text/html" in accept


def error_page(
    request: AnyRequest, status: int, detail: Message | str | None, code: str | None
) -> Response[bytes]:
    language, html = bare_page(
        request,
        "error.html",
        status=status,
        detail=detail.translate(language_of(request)) if isinstance(detail, Message) else detail,
        code=code,
    )
    return Response(
        html.encode(),
        status_code=status,
        media_type=HTML,
        headers={
            "Content-Language": language,
            "Cache-Control": "no-store",
            "Vary": "Accept-Language, Cookie",
        },
    )


def web_hub_error(request: AnyRequest, exc: HubError) -> Response[bytes]:
    if not wants_html(request):
        return hub_error_handler(request, exc)
    return error_page(request, exc.status, exc.message, exc.code)


def web_http_error(request: AnyRequest, exc: HTTPException) -> Response[bytes]:
    if not wants_html(request):
        return http_error_handler(request, exc)
    detail = None if isinstance(exc, NotFoundException) else exc.detail
    return error_page(request, exc.status_code, detail, f"http.{exc.status_code}")


def web_internal_error(request: AnyRequest, exc: Exception) -> Response[bytes]:
    if not wants_html(request):
        return internal_error_handler(request, exc)
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_page(request, 500, None, "internal")


HANDLERS: dict[type[Exception] | int, Any] = {
    HubError: web_hub_error,
    HTTPException: web_http_error,
    Exception: web_internal_error,
}
