"""Sign-in sessions: a password (and a second factor) for a secret that lasts 12 hours.

A browser keeps the secret in the `pshub_session` cookie; the CLI sends it as
`Authorization: Bearer pshubs_...` just long enough to create an API token. Only its SHA-256
is stored (it has 256 random bits, as a token's secret). A browser sends a cookie with any
request to the hub, a cross-site form's too, so a request that changes something and is
signed in by the cookie must also carry `X-CSRF-Token`: an HMAC of the session secret, given
at sign-in, which another site cannot read. Uploads never take a session (`authenticate`).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_schemas import SignedIn, SignIn
from pysetl_hub_server.accounts.passwords import hash_password, verify_password
from pysetl_hub_server.accounts.permissions import TOKEN_ACTIONS, Identity
from pysetl_hub_server.accounts.services import identify
from pysetl_hub_server.accounts.tokens import SESSION_PREFIX, hash_secret
from pysetl_hub_server.accounts.totp import second_factor
from pysetl_hub_server.audit.services import Actor, record
from pysetl_hub_server.db.models import User, WebSession
from pysetl_hub_server.errors import BadRequest, Forbidden, Unauthorized
from pysetl_hub_server.i18n.messages import _

if TYPE_CHECKING:
    from pysetl_hub_server.hub import Hub

COOKIE = "pshub_session"
CSRF_HEADER = "X-CSRF-Token"
SESSION_LIFETIME = timedelta(hours=12)
ENDED_KEPT = timedelta(days=1)  # how long an expired session row stays before sign-in drops it
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# last_used is written at most this often per session.
LAST_USED_GRANULARITY = timedelta(seconds=60)


@functools.cache
def _dummy_hash() -> str:
    """An argon2 hash to check a password against when the user does not exist, so that an
    unknown name takes as long to refuse as a wrong password (timing tells no names)."""
    return hash_password(secrets.token_urlsafe(16))


def csrf_token(secret: str) -> str:
    """The anti-CSRF value bound to a session: derived from its secret, so nothing more is
    stored and it dies with the session."""
    return hmac.new(secret.encode(), b"pysetl-hub csrf", hashlib.sha256).hexdigest()


async def _check_password(user: User | None, sign_in: SignIn) -> User:
    stored = user.password_hash if user is not None else _dummy_hash()
    matches = await asyncio.to_thread(verify_password, stored, sign_in.password)
    if user is None or not matches:
        raise Unauthorized(
            "auth.signin",
            _(
                "wrong username or password: check both (usernames are not case-sensitive); "
                "after 10 attempts in 5 minutes sign-in pauses"
            ),
        )
    if not user.is_active:
        raise Unauthorized(
            "auth.inactive", _("user {user!r} is disabled: ask the hub's admin", user=user.username)
        )
    return user


async def sign_in(hub: Hub, sign_in: SignIn, *, ip: str | None, user_agent: str | None) -> SignedIn:
    """Check the password (and second factor) and open a session; every attempt counts
    toward the sign-in limit of the name and of the address, and is recorded."""
    name = sign_in.username.strip().lower()
    _dummy_hash()  # made on the first sign-in of any name, so no unknown name pays for it
    await hub.limits.hit("signin", f"user:{name}", f"ip:{ip or 'unknown'}")
    async with hub.sessions() as session:
        user = await session.scalar(select(User).where(User.username == name))
        actor = Actor(user.id if user else None, name, ip, user_agent)
        try:
            user = await _check_password(user, sign_in)
            await second_factor(session, user, sign_in.otp, actor)
        except Unauthorized as exc:
            # A name that is no user is not kept: people type their password into the name
            # field, and the audit trail can never be scrubbed.
            known = user is not None
            await record(
                session,
                "signin.failure",
                actor=actor if known else Actor(None, "unknown-user", ip, user_agent),
                target=f"user:{name}" if known else "user:?",
                detail={"username": name, "reason": exc.code}
                if known
                else {"reason": exc.code, "unknown_user": True},
            )
            await session.commit()
            raise
        # The user's ended sessions are kept a day (for the security history), then dropped here,
        # so the table holds live sessions and recent ones, not every sign-in ever made.
        await session.execute(
            delete(WebSession).where(
                WebSession.user_id == user.id,
                WebSession.expires_at < datetime.now(UTC) - ENDED_KEPT,
            )
        )
        secret = SESSION_PREFIX + secrets.token_urlsafe(32)
        row = WebSession(
            session_hash=hash_secret(secret),
            user_id=user.id,
            expires_at=datetime.now(UTC) + SESSION_LIFETIME,
            ip=ip,
            user_agent=(user_agent or "")[:256] or None,
        )
        session.add(row)
        await record(
            session,
            "signin.success",
            actor=actor,
            target=f"user:{name}",
            detail={"username": name, "second_factor": user.totp_enabled},
        )
        await session.commit()
        expires = row.expires_at
    # The name's failures are forgotten once its owner got in; the address's are not.
    await hub.limits.clear("signin", f"user:{name}")
    return SignedIn(username=name, session=secret, expires=expires, csrf_token=csrf_token(secret))


async def session_identity(
    session: AsyncSession, secret: str, *, ip: str | None, user_agent: str | None
) -> Identity:
    """Who a session secret signs in: user-wide, every action, until it expires."""
    row = await session.scalar(
        select(WebSession).where(WebSession.session_hash == hash_secret(secret))
    )
    now = datetime.now(UTC)
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise Unauthorized(
            "auth.session_invalid", _("the sign-in session has expired or was ended: sign in again")
        )
    user = await session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("auth.inactive", _("the session's user is disabled"))
    if row.last_used is None or now - row.last_used >= LAST_USED_GRANULARITY:
        row.last_used = now
        await session.commit()
    return Identity(
        user_id=user.id,
        username=user.username,
        token_id=None,
        components=None,
        actions=frozenset(TOKEN_ACTIONS),
        is_admin=user.is_admin,
        expires=row.expires_at,
        via="session",
        ip=ip,
        user_agent=user_agent,
        session_id=row.id,
    )


def bearer_session(authorization: str | None) -> str | None:
    """The session secret in `Authorization: Bearer pshubs_...`, if that is what it holds."""
    scheme, _, value = (authorization or "").partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value.startswith(SESSION_PREFIX):
        return value
    return None


async def identify_request(
    hub: Hub,
    *,
    authorization: str | None,
    cookie: str | None,
    csrf: str | None,
    method: str,
    ip: str | None,
    user_agent: str | None,
) -> Identity:
    """Who a request acts as: the Authorization header (a token, or a session from the CLI)
    wins; else the session cookie, with the CSRF check on anything but a read."""
    secret = bearer_session(authorization)
    if secret is None and not authorization and cookie:
        if method.upper() not in SAFE_METHODS and not (
            csrf and hmac.compare_digest(csrf.encode(), csrf_token(cookie).encode())
        ):
            raise Forbidden(
                "auth.csrf",
                _(
                    "a {method} signed in by the session cookie must send the {header} header "
                    "with the csrf_token given at sign-in; this keeps other sites' forms from "
                    "acting in your name",
                    method=method.upper(),
                    header=CSRF_HEADER,
                ),
            )
        secret = cookie
    if secret is None:
        return await identify(hub, authorization, ip=ip, user_agent=user_agent)
    async with hub.sessions() as session:
        return await session_identity(session, secret, ip=ip, user_agent=user_agent)


async def sign_out(hub: Hub, who: Identity) -> None:
    """End the session the request was made with (its secret stops working at once)."""
    if who.via != "session" or who.session_id is None:
        raise BadRequest(
            "session.none",
            _(
                "this request is signed in with an API token, not a session: revoke a token "
                "with `DELETE /api/v1/tokens/{{id}}` (`pysetl-hub tokens revoke ID`)"
            ),
        )
    async with hub.sessions() as session:
        row = await session.get(WebSession, who.session_id)
        if row is not None and row.revoked_at is None:
            row.revoked_at = datetime.now(UTC)
            await record(
                session,
                "signout",
                actor=who.actor,
                target=f"user:{who.username}",
                detail={},
            )
            await session.commit()
