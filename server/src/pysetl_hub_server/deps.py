"""Dependency providers shared by every domain's controllers."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import HeaderParameter

from pysetl_hub_server.accounts.permissions import Identity
from pysetl_hub_server.accounts.sessions import COOKIE, CSRF_HEADER, identify_request
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.security.proxies import client_address


def provide_hub(state: State) -> Hub:
    hub: Hub = state.hub
    return hub


def client_ip(request: Request[Any, Any, Any]) -> str | None:
    """The client's address: the peer's, or the one a trusted proxy forwarded."""
    peer = request.client.host if request.client else None
    hub: Hub = request.app.state.hub
    return client_address(
        peer, request.headers.getall("x-forwarded-for", []), hub.settings.trusted_proxies
    )


async def provide_identity(
    hub: NamedDependency[Hub],
    request: Request[Any, Any, Any],
    authorization: Annotated[
        str | None,
        HeaderParameter(
            name="Authorization",
            description="`Bearer <API token or session>`, or HTTP Basic with `__token__` as "
            "the user; a browser's session cookie works too",
        ),
    ] = None,
) -> Identity:
    """Who the request acts as; a 401 problem when the credential is missing or bad.

    Only handlers that name the `who` dependency authenticate, in a session of their own.
    """
    return await identify_request(
        hub,
        authorization=authorization,
        cookie=request.cookies.get(COOKIE),
        csrf=request.headers.get(CSRF_HEADER),
        method=request.method,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
    )


async def provide_viewer(
    hub: NamedDependency[Hub],
    request: Request[Any, Any, Any],
    authorization: Annotated[
        str | None,
        HeaderParameter(
            name="Authorization",
            description="Optional: `Bearer <API token or session>` (or the session cookie); "
            "owners see their quarantined components",
        ),
    ] = None,
) -> Identity | None:
    """Who reads a public endpoint: None when anonymous; a bad credential is still a 401."""
    if not authorization and not request.cookies.get(COOKIE):
        return None
    return await provide_identity(hub, request, authorization)
