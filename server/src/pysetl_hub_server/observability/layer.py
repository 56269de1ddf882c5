"""The outermost ASGI layer: a request id for every request, its latency in the histogram, and
its access log line.

It wraps everything (the hot path included), so every answer is counted and carries
`X-Request-ID`: finished pages from memory, the app's answers, error pages and 404s alike. The
route label is the template Litestar matched, or the one the hot path answered for; a request
no route matched is `unmatched`, so a flood of random paths adds no label values."""

from __future__ import annotations

import logging
import time
from typing import Final

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from pysetl_hub_server.observability import metrics
from pysetl_hub_server.observability.requestid import HEADER, REQUEST_ID, accepted, new_id

access = logging.getLogger("pysetl_hub_server.access")
ROUTE_KEY: Final = "path_template"  # set by Litestar's router, and by the hot path


def _request_id(scope: Scope) -> str:
    for key, value in scope["headers"]:
        if key == HEADER:
            return accepted(bytes(value)) or new_id()
    return new_id()


class Observed:
    def __init__(self, app: ASGIApp, *, access_log: bool = False) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        rid = _request_id(scope)
        token = REQUEST_ID.set(rid)
        header = (HEADER, rid.encode())
        status = 500  # what the server answers when the app fails before its first message

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            seconds = time.perf_counter() - started
            template = scope.get(ROUTE_KEY)
            route = metrics.route_label(template) if template else metrics.UNMATCHED
            method: str = scope["method"]
            metrics.observe_request(route, method, status, seconds)
            if self.access_log:
                access.info(
                    "%s %s %d %.1f ms (route %s)",
                    method,
                    scope["path"],
                    status,
                    seconds * 1000,
                    route,
                    extra={
                        "method": method,
                        "path": scope["path"],
                        "route": route,
                        "status": status,
                        "duration_ms": round(seconds * 1000, 3),
                    },
                )
            REQUEST_ID.reset(token)
