"""The one place that turns errors into RFC 9457 problem+json responses.

`title` and `detail` are written in the request's language (the picker's cookie, then
Accept-Language, then English); `code` and everything else stay the same in every language, so
clients match on `code`, never on text."""

from __future__ import annotations

import errno
import logging
import re
from http import HTTPStatus
from typing import Any, Final

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from pysetl_hub_schemas import Problem
from pysetl_hub_server.errors import HubError, ServiceUnavailable, TooManyRequests, storage_full
from pysetl_hub_server.i18n import negotiate
from pysetl_hub_server.i18n.catalogs import translations
from pysetl_hub_server.i18n.messages import DOMAIN, N_, Message, _, localize
from pysetl_hub_server.security.masking import redact

log = logging.getLogger("pysetl_hub_server")

PROBLEM_MEDIA_TYPE = "application/problem+json"


# Set in `request.state` by a handler while the request body has not been read to its end. An
# error answered then closes the connection (RFC 9112 9.6): the rest of the body is never read,
# so a client that reused the connection would have its next request lost in it.
BODY_UNREAD = "body_unread"

# The titles a problem can carry (HTTP reason phrases), marked for the catalog; `title` is
# looked up by its English text, so any other phrase simply stays English.
TITLES: Final = (
    N_("Bad Request"),
    N_("Unauthorized"),
    N_("Forbidden"),
    N_("Not Found"),
    N_("Method Not Allowed"),
    N_("Not Acceptable"),
    N_("Request Timeout"),
    N_("Conflict"),
    N_("Gone"),
    N_("Content Too Large"),
    N_("Request Entity Too Large"),
    N_("Unsupported Media Type"),
    N_("Unprocessable Content"),
    N_("Unprocessable Entity"),
    N_("Too Many Requests"),
    N_("Request Header Fields Too Large"),
    N_("Internal Server Error"),
    N_("Not Implemented"),
    N_("Service Unavailable"),
    N_("Insufficient Storage"),
    N_("Error"),
)
# Litestar's own words for a request its signature model refused (the errors list under
# `extra` is msgspec's, and stays English).
_VALIDATION: Final = re.compile(r"Validation failed for (?P<method>[A-Z]+) (?P<path>.*)", re.S)


def language_of(request: Request[Any, Any, Any]) -> str:
    """The language the problem is written in."""
    return negotiate.choose(
        request.cookies.get(negotiate.COOKIE), request.headers.get("accept-language")
    )


def title_in(title: str, language: str) -> str:
    return translations(DOMAIN, language).gettext(title)


PROBLEM_VARY = "Accept-Language, Cookie"


def problem_body(
    language: str,
    status: int,
    title: str,
    detail: str | Message,
    code: str | None,
    instance: str,
    extra: dict[str, Any] | None = None,
    *,
    mask: bool = True,
) -> bytes:
    """The RFC 9457 body, framework-free: the hot path refuses unknown names with these bytes.
    `mask=False` only where what the client sent is known to hold no character a secret needs
    (a normalized project name: letters, digits, hyphens), which saves the masking's regexes."""
    body = Problem(
        title=title_in(title, language),
        status=status,
        detail=localize(detail, language),
        code=code,
        instance=instance,
        extra=extra,
    )
    # A detail may quote what the client sent (a malformed address, a header): masked like a
    # log line, so an error body never carries a secret or an e-mail address back out.
    encoded = msgspec.json.encode(body)
    return redact(encoded.decode()).encode() if mask else encoded


def problem_response(
    request: Request[Any, Any, Any],
    status: int,
    title: str,
    detail: str | Message,
    *,
    code: str | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[bytes]:
    """Render an RFC 9457 body. twine shows the HTTP reason, so the detail leads it too."""
    language = language_of(request)
    content = problem_body(language, status, title, detail, code, request.url.path, extra)
    # The language follows the cookie as well as the header: a cache keys on both.
    headers = {**(headers or {}), "Content-Language": language, "Vary": PROBLEM_VARY}
    if request.state.get(BODY_UNREAD):
        headers["Connection"] = "close"
    return Response(
        content=content,
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
        exc.message,
        code=exc.code,
        extra=exc.extra,
        headers=headers,
    )


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    detail = _litestar_detail(exc.detail)
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
        _(
            "The server failed to handle this request; it has been logged. Retry, and report it "
            "if it persists."
        ),
        code="internal",
    )


def os_error_handler(request: Request[Any, Any, Any], exc: OSError) -> Response[bytes]:
    """A full disk is the operator's to fix and the client's to know about (507); any other
    OS error is a bug or an outage of ours (500)."""
    if exc.errno in DISK_FULL:
        log.error("no space left while handling %s %s: %s", request.method, request.url.path, exc)
        return hub_error_handler(request, storage_full())
    return internal_error_handler(request, exc)


def _litestar_detail(detail: str) -> str | Message:
    """Litestar's detail as a message when it is one of its generic sentences (a reason phrase,
    a failed validation), so it is translated too; anything else stays as it is."""
    if detail in TITLES:
        return Message(detail, {})
    if match := _VALIDATION.fullmatch(detail):
        return _(
            "Validation failed for {method} {path}",
            method=match["method"],
            path=match["path"],
        )
    return detail


def _reason(status: int) -> str:
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
