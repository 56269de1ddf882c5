"""The session cookie, one definition for the JSON API's sign-in and the web's."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import Cookie

from pysetl_hub_server.accounts.sessions import COOKIE
from pysetl_hub_server.hub import Hub


def session_cookie(request: Request[Any, Any, Any], hub: Hub, value: str, max_age: int) -> Cookie:
    """HttpOnly, SameSite=Lax, and Secure when the request came over TLS or when the hub's
    public URL is https (behind a TLS-terminating proxy the hub itself sees plain http)."""
    public = (hub.settings.base_url or "").lower().startswith("https://")
    return Cookie(
        key=COOKIE,
        value=value,
        path="/",
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https" or public,
    )
