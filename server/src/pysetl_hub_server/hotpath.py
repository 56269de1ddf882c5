"""The outer ASGI layer: cached index pages and small files answered before the framework runs,
and every download counted in one place.

Installers hit `/simple/{name}/` and `/files/...` far more than anything else, and both answers
are derived data the page cache already holds finished (answers.py). Going through routing,
dependency injection and response objects for them costs more than the answer itself, so this
layer wraps the Litestar app and sends the finished bytes itself. It only answers what the
handlers would answer byte for byte (they send the same `Answer` objects); anything it is unsure
of (a cache miss, a query string, a name to redirect, an Accept header to refuse, a file too big
to keep in memory) goes on to the app, which stays the single place that renders errors.
Every response, from either path, carries `X-Content-Type-Options: nosniff`.

Beside index pages and files it answers, from memory: the 404 of a name no component has (the
known names, kept by the serial; a flood of random names never reaches the database), cached
JSON API documents to requests without credentials, and kept search answers of an unchanged
index. Big pages (the project list) go gzip-compressed to clients that accept it.
"""

from __future__ import annotations

import re

from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send
from packaging.utils import canonicalize_name

from pysetl_hub_server.answers import NOSNIFF, Headers, RenderedPage, wants_gzip
from pysetl_hub_server.errors import HubError
from pysetl_hub_server.finished import send_finished
from pysetl_hub_server.hub import ROOT, Downloads, PageCache
from pysetl_hub_server.i18n import negotiate as languages
from pysetl_hub_server.observability import metrics
from pysetl_hub_server.problems import PROBLEM_MEDIA_TYPE, PROBLEM_VARY, problem_body
from pysetl_hub_server.search.engine import SearchEngine
from pysetl_hub_server.simple.media import missing, negotiate
from pysetl_hub_server.web.hot import WebPages

Answered = tuple[int, Headers, bytes]
# A normalized name the hot path may refuse itself: nothing in it for the masking to find.
_PLAIN = re.compile(r"[a-z0-9][a-z0-9-]*")
API = "/api/v1/components/"
SEARCH = "/api/v1/search"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _file_path(path: str) -> tuple[str, str] | None:
    """(sha256, filename) of `/files/<sha256>/<filename>`; None for other paths and for PEP 658
    metadata files (not downloads, and not answered from memory)."""
    parts = path.split("/")
    if len(parts) != 4 or parts[1] != "files" or parts[3].endswith(".metadata"):
        return None
    return parts[2], parts[3]


def hot_route(path: str) -> str:
    """The route template of an answer sent from memory, as the app's router names it (without
    the final slash). Never the raw path: a metrics label per component, release or spelling
    would grow without bound."""
    if path.startswith("/simple/"):
        return "/simple" if path == "/simple/" else "/simple/{name}"
    if path.startswith("/files/"):
        return "/files/{sha256}/{filename}"
    if path.startswith(API):
        one = "/" not in path[len(API) :].rstrip("/")
        return "/api/v1/components/{name}" if one else "/api/v1/components/{name}/{version}"
    if path.startswith("/components/"):
        return "/components/{name}"
    return path if path in (SEARCH, "/") else metrics.UNMATCHED


def _download_name(scope: HTTPScope) -> str | None:
    """The filename a GET of `/files/<sha256>/<filename>` downloads."""
    if scope["method"] != "GET":
        return None
    found = _file_path(scope["path"])
    return None if found is None else found[1]


class HotPath:
    """ASGI layer around the app; see the module docstring for what it may answer."""

    def __init__(
        self,
        app: ASGIApp,
        cache: PageCache,
        downloads: Downloads,
        pages: WebPages | None = None,
        searches: SearchEngine | None = None,
    ) -> None:
        self.app = app
        self._searches = searches
        self._cache = cache
        self._downloads = downloads
        self._pages = pages

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method in ("GET", "HEAD") and (not scope["query_string"] or scope["path"] == SEARCH):
            answer = self.answer(scope, method)
            if answer is None and method == "GET" and scope["path"].startswith("/simple/"):
                answer = await self._first_render(scope)
            if answer is not None:
                status, headers, body = answer
                scope["path_template"] = hot_route(scope["path"])  # the metrics' route label
                await send_finished(send, status, headers, body)
                if status == 200 and (name := _download_name(scope)):
                    self._downloads.count(name)
                return
        name = _download_name(scope)

        async def finishing(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                if not any(k.lower() == NOSNIFF[0] for k, _ in headers):
                    message["headers"] = [*headers, NOSNIFF]
                # 307: a redirect to a presigned URL of the object store is a download too.
                if name is not None and message["status"] in (200, 307):
                    self._downloads.count(name)
            await send(message)

        await self.app(scope, receive, finishing)

    def answer(self, scope: Scope, method: str) -> Answered | None:
        path: str = scope["path"]
        if path == SEARCH:
            return self._search(scope) if method == "GET" else None
        if path.startswith("/simple/") and method == "GET":  # the index routes are GET only
            name = path[len("/simple/") : -1] if path.endswith("/") else None
            if name is None or "/" in name:
                return None
            page = self._cache.peek(name or ROOT)
            if page is not None:
                return self._page(scope, page)
            return self._unknown(scope, name) if name else None
        if path.startswith("/files/"):
            return self._file(scope, path, method)
        if path.startswith(API) and method == "GET":
            return self._document(scope, path[len(API) :])
        if self._pages is not None:
            return self._pages.answer(
                path, method, list(scope["headers"]), scope["scheme"], scope.get("root_path", "")
            )
        return None

    def _page(self, scope: Scope, page: RenderedPage) -> Answered | None:
        try:
            media = negotiate(_header(scope, b"accept"), None)
        except HubError:
            return None  # the app renders the 406 problem
        gzipped = page.gzipped is not None and wants_gzip(_header(scope, b"accept-encoding"))
        return page.answer(media, gzipped).to(_header(scope, b"if-none-match"))

    async def _first_render(self, scope: Scope) -> Answered | None:
        """A project page not in memory (a cold start, or one the LRU dropped), rendered in the
        cache's batch of first requests and answered here: at 100k components most first
        requests are such, and the app's routing would double their cost. Anything else (a
        name to redirect, no such page, the database down) is left to the app's answer."""
        path: str = scope["path"]
        name = path[len("/simple/") : -1] if path.endswith("/") else ""
        if not _plain(name):
            return None
        try:
            page = await self._cache.project(name)
        except Exception:  # the app asks again and answers the problem (503 for an outage)
            return None
        return None if page is None else self._page(scope, page)

    def _unknown(self, scope: Scope, name: str) -> Answered | None:
        """The 404 of a name no component has, from memory: a flood of random names never
        reaches the database. Left to the app when a cookie may pick the language, or when the
        name is not normalized (the app redirects those first)."""
        if _header(scope, b"cookie") is not None or not self._cache.unknown(name):
            return None
        if not _plain(name):
            return None
        try:
            negotiate(_header(scope, b"accept"), None)
        except HubError:
            return None  # the app renders the 406 problem, which comes first
        language = languages.choose(None, _header(scope, b"accept-language"))
        exc = missing(name)
        body = problem_body(
            language,
            exc.status,
            exc.title,
            exc.message,
            exc.code,
            scope["path"].rstrip("/"),  # as the app names the instance
            exc.extra,
            mask=False,  # letters, digits and hyphens: no secret can be quoted back
        )
        headers = (
            (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
            (b"content-language", language.encode()),
            (b"vary", PROBLEM_VARY.encode()),
            (b"content-length", str(len(body)).encode()),
            NOSNIFF,
        )
        return exc.status, headers, body

    def _search(self, scope: Scope) -> Answered | None:
        """A kept search answer of this exact query string while the index is unchanged."""
        kept = self._searches.answers if self._searches is not None else None
        if kept is None:
            return None
        answer = kept.peek(scope["query_string"])
        return None if answer is None else answer.to(_header(scope, b"if-none-match"))

    def _document(self, scope: Scope, key: str) -> Answered | None:
        """A cached JSON API document (a component, a release) for a request without
        credentials: the handler checks credentials, and renders what is not cached."""
        if _header(scope, b"authorization") is not None or _header(scope, b"cookie") is not None:
            return None
        answer = self._cache.peek_document(key)
        return None if answer is None else answer.to(_header(scope, b"if-none-match"))

    def _file(self, scope: Scope, path: str, method: str) -> Answered | None:
        found = _file_path(path)
        answer = None if found is None else self._cache.peek_file(*found)
        if answer is None:
            return None
        return answer.to(_header(scope, b"if-none-match"), head=method == "HEAD")


def _plain(name: str) -> bool:
    """A normalized name the database could hold (128 characters at most); others are the
    app's to redirect or refuse."""
    return 0 < len(name) <= 128 and bool(_PLAIN.fullmatch(name)) and canonicalize_name(name) == name
