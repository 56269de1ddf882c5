"""Who a credential belongs to: the body of `GET /api/v1/me`, and a token's public facts.

`pysetl-hub login` asks before it saves a token, so a mistyped one is refused at once rather
than at the first upload; `pysetl-hub whoami` shows it; `pysetl-hub tokens list` lists them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pysetl_hub_schemas.base import Response

Via = Literal["token", "session", "oidc"]


class TokenInfo(Response):
    """An API token; never its secret."""

    id: str  # public id: the 16 hex digits after `pshub_` (`tokens revoke` takes it)
    created: datetime
    component: str | None = None  # the one component it may act on, when it names exactly one
    expires: datetime | None = None  # None: it does not expire
    description: str = ""
    # The components it may act on; None: every component its user may act on.
    components: list[str] | None = None
    # What it may do there: some of "upload", "yank", "manage".
    actions: list[str] = []
    name: str = ""
    last_used: datetime | None = None
    last_used_ip: str | None = None
    revoked: datetime | None = None  # when it was revoked; None: it was not
    # How it came to be: "user" (API or CLI), "admin" (server CLI), "oidc" (trusted publishing).
    origin: str = "user"


class SessionInfo(Response):
    """A sign-in session (`POST /api/v1/session`): user-wide, every action, until it expires."""

    created: datetime
    expires: datetime


class Me(Response):
    """The user a credential belongs to, and what the credential may do.

    `via` says which kind it is: an API token (`token` is set), a sign-in session (`session`
    is set), or a token minted for a trusted publisher (`token` is set).
    """

    username: str
    token: TokenInfo | None = None
    via: Via = "token"
    session: SessionInfo | None = None
