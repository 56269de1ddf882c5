"""Security headers on every response: the framework's, the hot path's and the gate's alike.

- `X-Content-Type-Options: nosniff`: a browser never guesses a type, so an uploaded file or a
  JSON body is never run as a script or a style sheet.
- `Referrer-Policy: strict-origin-when-cross-origin`: a link out of the marketplace tells the
  other site which hub, never which page (a search, a token page).
- `Content-Security-Policy` (when the response sets none of its own): scripts, styles, images,
  fonts and connections from the hub's own origin only, and no inline script or style, so a
  README that slipped past the sanitiser still could not run or load anything; no plugins, no
  `<base>`, forms post only here, and (`frame-ancestors 'none'`, `X-Frame-Options: DENY`) no
  page can be framed, so none can be clickjacked.
- `Strict-Transport-Security` when the request came over TLS the hub serves itself (behind a
  TLS-terminating proxy, the proxy sends it: the hub cannot know the outside is HTTPS-only).
"""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    b"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    b"form-action 'self'; frame-ancestors 'none'"
)
ALWAYS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", CSP),
)
HSTS = (b"strict-transport-security", b"max-age=31536000")


def secured(headers: list[tuple[bytes, bytes]], tls: bool) -> list[tuple[bytes, bytes]]:
    """`headers` with every security header it lacks (one the app set itself is kept)."""
    present = {bytes(k).lower() for k, _ in headers}
    extra = [h for h in ALWAYS if h[0] not in present]
    if tls and HSTS[0] not in present:
        extra.append(HSTS)
    return [*headers, *extra] if extra else headers


class SecurityHeaders:
    """The outermost ASGI layer: adds the headers to each response's start message."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        tls = scope.get("scheme") == "https"

        async def securing(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = secured(list(message.get("headers", ())), tls)
            await send(message)

        await self.app(scope, receive, securing)
