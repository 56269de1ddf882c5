"""`/api/v1/me`: who a token belongs to, so a client can check a token before it keeps it."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency

from pysetl_hub_schemas import Me
from pysetl_hub_server.accounts.permissions import Identity
from pysetl_hub_server.accounts.services import whoami
from pysetl_hub_server.hub import Hub


@get("/api/v1/me", tags=["accounts"], summary="The user and token behind the Authorization header")
async def me(hub: NamedDependency[Hub], who: NamedDependency[Identity]) -> Me:
    async with hub.sessions() as session:
        return await whoami(session, who)
