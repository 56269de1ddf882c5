"""`/api/v1/oidc`: the audience CI tokens must name, and the token exchange itself."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from pysetl_hub_schemas import MintedToken, MintRequest, OidcAudience
from pysetl_hub_server.deps import client_ip
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.provenance.oidc import services


class OidcController(Controller):
    path = "/api/v1/oidc"
    tags = ["trusted publishing"]

    @get("/audience", summary="The audience a CI OIDC token must be requested for")
    async def audience(self, hub: NamedDependency[Hub]) -> OidcAudience:
        return services.audience(hub)

    @post(
        "/mint-token",
        status_code=200,
        summary="Exchange a CI OIDC token for a 15-minute upload token (trusted publishing)",
    )
    async def mint_token(
        self,
        data: JSONBody[MintRequest],
        hub: NamedDependency[Hub],
        request: Request[Any, Any, Any],
    ) -> MintedToken:
        return await services.mint(
            hub, data.token, ip=client_ip(request), user_agent=request.headers.get("user-agent")
        )
