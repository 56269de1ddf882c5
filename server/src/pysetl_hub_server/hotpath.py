"""Index pages and small files that are already in memory, answered before the framework runs.

Installers hit `/simple/{name}/` and `/files/...` far more than anything else, and both answers
are derived data the `IndexCache` already holds as bytes. Going through routing, dependency
injection and response objects for them costs more than the answer itself, so this layer sends
the cached bytes straight to the ASGI server. It only ever answers what the framework handlers
would answer byte for byte (same status, body and headers); anything it is unsure of (a cache
miss, a query string, a name to redirect, an Accept header to refuse, a file too big to keep in
memory) goes on to the framework, which stays the single place that renders errors.
"""

from __future__ import annotations

from collections.abc import Callable

from litestar.enums import ScopeType
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Receive,
    Scope,
    Send,
)

from pysetl_hub_server.errors import HubError
from pysetl_hub_server.files.controllers import content_type
from pysetl_hub_server.simple.cache import ROOT, IndexCache, RenderedPage
from pysetl_hub_server.simple.controllers import negotiate
from pysetl_hub_server.simple.render import JSON_TYPE, TEXT_HTML

IMMUTABLE = b"public, max-age=31536000, immutable"
_CONTENT_TYPES = {
    JSON_TYPE: JSON_TYPE.encode(),
    TEXT_HTML: b"text/html; charset=utf-8",
}
Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


class HotPath:
    """ASGI layer in front of the router; see the module docstring for what it may answer."""

    def __init__(
        self, app: ASGIApp, cache: IndexCache, on_download: Callable[[str], None] = lambda _: None
    ) -> None:
        self._app = app
        self._cache = cache
        self._on_download = on_download

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"] if scope["type"] == ScopeType.HTTP else None
        if method in ("GET", "HEAD") and not scope["query_string"]:
            answer = self.answer(scope, method)
            if answer is not None:
                status, headers, body = answer
                start: HTTPResponseStartEvent = {
                    "type": "http.response.start",
                    "status": status,
                    "headers": headers,
                }
                await send(start)
                if method == "HEAD":
                    body = b""
                end: HTTPResponseBodyEvent = {
                    "type": "http.response.body",
                    "body": body,
                    "more_body": False,
                }
                await send(end)
                if status == 200 and method == "GET" and scope["path"].startswith("/files/"):
                    self._on_download(scope["path"].rsplit("/", 1)[1])
                return
        await self._app(scope, receive, send)

    def answer(self, scope: Scope, method: str) -> Answer | None:
        path: str = scope["path"]
        if path.startswith("/simple/") and method == "GET":  # the index routes are GET only
            name = path[len("/simple/") : -1] if path.endswith("/") else None
            if name is None or "/" in name:
                return None
            page = self._cache.peek(name or ROOT)
            return None if page is None else self._page(scope, page)
        if path.startswith("/files/"):
            return self._file(scope, path)
        return None

    def _page(self, scope: Scope, page: RenderedPage) -> Answer | None:
        try:
            media = negotiate(_header(scope, b"accept"), None)
        except HubError:
            return None  # the framework renders the 406 problem
        if media == JSON_TYPE:
            body, etag = page.json, page.etag_json
        elif media == TEXT_HTML:
            body, etag = page.html, page.etag_html
        else:
            return None  # the explicit PEP 691 HTML type is rare: leave it to the handler
        headers = [
            (b"etag", etag.encode()),
            (b"vary", b"Accept"),
            (b"x-pypi-last-serial", str(page.serial).encode()),
            (b"cache-control", b"max-age=60, public"),
        ]
        if _header(scope, b"if-none-match") == etag:
            return 304, headers, b""
        headers.append((b"content-type", _CONTENT_TYPES[media]))
        headers.append((b"content-length", str(len(body)).encode()))
        return 200, headers, body

    def _file(self, scope: Scope, path: str) -> Answer | None:
        parts = path.split("/")
        if len(parts) != 4 or parts[3].endswith(".metadata"):
            return None
        sha256, filename = parts[2], parts[3]
        data = self._cache.peek_file_bytes(sha256, filename)
        if data is None:
            return None
        etag = f'"{sha256}"'.encode()
        headers = [(b"etag", etag), (b"cache-control", IMMUTABLE)]
        if _header(scope, b"if-none-match") == etag.decode():
            return 304, headers, b""
        headers.append((b"content-type", content_type(filename).encode()))
        headers.append((b"content-length", str(len(data)).encode()))
        return 200, headers, data
