"""The tokens API: create (the secret is shown once), list, and report a leaked token."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from pysetl_hub_schemas.accounts import TokenInfo
from pysetl_hub_schemas.base import ComponentName, Request, Response

TokenAction = Literal["upload", "yank", "manage"]


class TokenCreate(Request):
    """Body of `POST /api/v1/tokens`.

    Without `components` the token acts on every component of its user (and may create new
    ones); without `actions` it may upload, yank and manage. It expires after `expires_days`
    (default: the hub's setting, 90 days) unless `never_expires` is chosen. A token used to
    create another may only create a narrower one.
    """

    name: Annotated[str, Meta(min_length=1, max_length=100, examples=["ci on laptop"])]
    components: Annotated[list[ComponentName], Meta(min_length=1, max_length=100)] | None = None
    actions: Annotated[list[TokenAction], Meta(min_length=1, max_length=3)] | None = None
    expires_days: Annotated[int, Meta(ge=1, le=36500)] | None = None
    never_expires: bool = False
    description: Annotated[str, Meta(max_length=200)] = ""


class TokenCreated(Response):
    """A new token: `token` is its secret, shown this once and stored only hashed."""

    token: str
    info: TokenInfo


class TokenList(Response):
    """The caller's tokens, newest first, revoked and expired ones included."""

    tokens: list[TokenInfo]


class LeakedToken(Response):
    """One entry of a leaked-token report, as secret scanners send them (GitHub's secret
    scanning partner format: `token`, `type`, `url`, `source`). Read leniently, like a
    response: the format is a third party's, and a field it adds must not lose a report."""

    token: str
    type: str | None = None
    url: str | None = None
    source: str | None = None


class LeakReceipt(Response):
    """The answer to every leaked-token report, the same whatever the tokens were: a report
    tells nothing about whether a token was valid."""

    received: int
    detail: str
