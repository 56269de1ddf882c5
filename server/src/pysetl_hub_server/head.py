"""HEAD is GET without the body (RFC 9110, 9.3.2), on every route that answers GET.

Litestar routes a HEAD only to handlers that list it, so a page not yet in memory (the hot path
answers HEAD for what it holds) answered 405 where its GET answers 200. This layer asks the app
first; when the app refuses the method, it asks again as a GET and sends that answer's status
and headers (Content-Length, ETag, ...) without the body. Handlers that serve HEAD themselves
(file downloads: no blob is read) keep doing so."""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

ROUTE_KEY = "path_template"  # the metrics' route label (observability/layer.py)


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        refused = False

        async def unless_refused(message: Message) -> None:
            nonlocal refused
            if message["type"] == "http.response.start" and message["status"] == 405:
                refused = True
            if not refused:
                await send(message)

        await self.app(scope, receive, unless_refused)
        if not refused:
            return
        as_get = dict(scope)
        as_get["method"] = "GET"

        async def bodiless(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app(as_get, receive, bodiless)  # type: ignore[arg-type]
        if ROUTE_KEY in as_get:
            scope[ROUTE_KEY] = as_get[ROUTE_KEY]  # type: ignore[literal-required]
