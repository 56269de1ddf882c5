"""Who a token belongs to: the body of `GET /api/v1/me`.

`pysetl-hub login` asks before it saves a token, so a mistyped one is refused at once rather
than at the first upload; `pysetl-hub whoami` shows it.
"""

from __future__ import annotations

from datetime import datetime

from pysetl_hub_schemas.base import Response


class TokenInfo(Response):
    """The token a request was made with; never its secret."""

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


class Me(Response):
    """The user a token belongs to, and what the token may do."""

    username: str
    token: TokenInfo
