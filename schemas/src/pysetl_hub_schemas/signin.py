"""Signing in with a password (and a TOTP code), and the second factor's set-up.

A session is for people: the browser keeps it in the `pshub_session` cookie, the CLI keeps it
just long enough to create an API token. Uploads never take a session.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from msgspec import Meta

from pysetl_hub_schemas.base import Request, Response

# Bounded so that a huge password cannot make argon2 (or the server) work for nothing.
_Username = Annotated[str, Meta(min_length=1, max_length=64, examples=["alice"])]
_Password = Annotated[str, Meta(min_length=1, max_length=1024)]
_Code = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=64,
        description="A 6-digit TOTP code, or one of the recovery codes.",
        examples=["123456"],
    ),
]


class SignIn(Request):
    """Body of `POST /api/v1/session`."""

    username: _Username
    password: _Password
    # Needed once the user has turned on two-factor sign-in (a TOTP or a recovery code).
    otp: _Code | None = None


class SignedIn(Response):
    """A new session. `session` is its secret, shown this once: the CLI sends it as
    `Authorization: Bearer pshubs_...`; a browser gets it as the `pshub_session` cookie and
    must send `csrf_token` back in the `X-CSRF-Token` header of every request that changes
    something."""

    username: str
    session: str
    expires: datetime
    csrf_token: str


class TotpCode(Request):
    """A current TOTP code (or, to turn two-factor sign-in off, a recovery code)."""

    code: _Code


class TotpSetup(Response):
    """The secret of a TOTP being set up: add it to an authenticator app (the URI is what a
    QR code would hold), then confirm with a code it shows."""

    secret: str
    uri: str


class RecoveryCodes(Response):
    """One-use codes that stand in for a lost authenticator, shown this once."""

    codes: list[str]
