"""Dependency providers shared by every domain's controllers."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import HeaderParameter

from pysetl_hub_server.accounts.permissions import Identity
from pysetl_hub_server.accounts.services import identify
from pysetl_hub_server.hub import Hub


def provide_hub(state: State) -> Hub:
    hub: Hub = state.hub
    return hub


def client_ip(request: Request[Any, Any, Any]) -> str | None:
    """The peer's address (the proxy's, behind one: the hub does not trust forwarded headers)."""
    return request.client.host if request.client else None


async def provide_identity(
    hub: NamedDependency[Hub],
    request: Request[Any, Any, Any],
    authorization: Annotated[
        str | None,
        HeaderParameter(
            name="Authorization",
            description="`Bearer <API token>`, or HTTP Basic with `__token__` as the user",
        ),
    ] = None,
) -> Identity:
    """Who the request acts as; a 401 problem when the token is missing or bad.

    Only handlers that name the `who` dependency authenticate, in a session of their own.
    """
    return await identify(
        hub,
        authorization,
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
            description="Optional: `Bearer <API token>`; owners see their quarantined components",
        ),
    ] = None,
) -> Identity | None:
    """Who reads a public endpoint: None when anonymous; a bad token is still a 401."""
    if not authorization:
        return None
    return await identify(
        hub, authorization, ip=client_ip(request), user_agent=request.headers.get("user-agent")
    )
