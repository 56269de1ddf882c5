"""Trusted publishing: a CI job's OIDC token exchanged for a short-lived upload token.

The job asks `GET /api/v1/oidc/audience` which audience to request from its CI, gets an OIDC
token for it, and posts it to `POST /api/v1/oidc/mint-token`; no secret is stored in CI.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from msgspec import Meta

from pysetl_hub_schemas.base import Request, Response


class OidcAudience(Response):
    """The `aud` a CI OIDC token must carry to be exchanged at this hub."""

    audience: str


class MintRequest(Request):
    """Body of `POST /api/v1/oidc/mint-token`."""

    token: Annotated[
        str,
        Meta(
            max_length=16384,
            description="The CI job's OIDC token (a JWT), requested for the hub's audience.",
        ),
    ]


class MintedToken(Response):
    """A short-lived API token that may only upload, to the components listed."""

    token: str  # shown once, like every API token
    expires: datetime
    components: list[str] = []
