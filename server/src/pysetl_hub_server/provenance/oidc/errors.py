"""The one error status trusted publishing adds: a token that is not even well formed."""

from __future__ import annotations

from pysetl_hub_server.errors import HubError


class Unprocessable(HubError):
    """The OIDC token is not a JWT, or lacks a claim its CI always sends."""

    status = 422
    title = "Unprocessable Content"
