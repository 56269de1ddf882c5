"""`/api/v1/me`: who a token belongs to, so a client can check a token before it keeps it."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency

from pysetl_hub_schemas import Me
from pysetl_hub_server.accounts.services import identify, whoami
from pysetl_hub_server.runtime import Hub


@get("/api/v1/me", tags=["accounts"], summary="The user and token behind the Authorization header")
async def me(request: Request[Any, Any, Any], hub: NamedDependency[Hub]) -> Me:
    who = await identify(hub, request.headers.get("authorization"))
    async with hub.sessions() as session:
        return await whoami(session, who)
