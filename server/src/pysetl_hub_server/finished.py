"""Sending a finished answer (answers.py) over ASGI: the hot path and the handlers alike."""

from __future__ import annotations

from typing import Any, cast

from litestar import Response
from litestar.enums import ScopeType
from litestar.response.base import ASGIResponse
from litestar.types import HTTPResponseBodyEvent, HTTPResponseStartEvent, Receive, Scope, Send

from pysetl_hub_server.answers import Headers


async def send_finished(send: Send, status: int, headers: Headers, body: bytes) -> None:
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": status,
        "headers": headers,
    }
    await send(start)
    end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(end)


class _Send:
    __slots__ = ("answer",)

    def __init__(self, answer: tuple[int, Headers, bytes]) -> None:
        self.answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        status, headers, body = self.answer
        head = scope["type"] == ScopeType.HTTP and scope["method"] == "HEAD"
        await send_finished(send, status, headers, b"" if head else body)


class Finished(Response[bytes]):
    """What a handler returns for an answer that is already finished: its status, headers and
    body go out as they are, so the handler and the hot path send identical bytes."""

    def __init__(self, status: int, headers: Headers, body: bytes) -> None:
        super().__init__(content=body, status_code=status)
        self.answer = (status, headers, body)

    def to_asgi_response(
        self,
        app: Any,
        request: Any,
        *,
        background: Any = None,
        cookies: Any = None,
        headers: Any = None,
        **_: Any,
    ) -> ASGIResponse:
        # Headers, cookies or background tasks layered on by the app or a route would be sent
        # by the handler and not by the hot path: refuse them loudly rather than diverge.
        if background or cookies or headers:
            raise RuntimeError(
                "a finished answer takes no layered response headers, cookies or background "
                "tasks: set them where the answer is built (answers.py), for both paths"
            )
        # Litestar only ever calls the result as an ASGI app.
        return cast(ASGIResponse, _Send(self.answer))
