"""Users, tokens and roles: the services behind the CLI and the auth guard."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_schemas import Me, SessionInfo, TokenInfo
from pysetl_hub_server.accounts.passwords import hash_password
from pysetl_hub_server.accounts.permissions import TOKEN_ACTIONS, Identity
from pysetl_hub_server.accounts.tokens import (
    SESSION_PREFIX,
    generate_token,
    parse_token,
    secret_matches,
)
from pysetl_hub_server.audit.services import Actor, record
from pysetl_hub_server.db.models import (
    ApiToken,
    Component,
    Role,
    TrustedPublisher,
    User,
    WebSession,
)
from pysetl_hub_server.errors import BadRequest, Conflict, NotFound, Unauthorized
from pysetl_hub_server.i18n.messages import _

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}[A-Za-z0-9]$|^[A-Za-z0-9]$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,19}")

if TYPE_CHECKING:
    from pysetl_hub_server.hub import Hub

# Tokens expire after this many days unless their creator chose otherwise ("never" included).
DEFAULT_TOKEN_DAYS = 90


async def create_user(
    session: AsyncSession,
    username: str,
    email: str,
    password: str,
    *,
    actor: Actor | None = None,
) -> User:
    if not USERNAME_RE.fullmatch(username):
        raise BadRequest(
            "user.name",
            _(
                "username {username!r} is invalid: use 1-64 letters, digits, '.', '_' or '-', "
                "starting and ending with a letter or digit",
                username=username,
            ),
        )
    if not EMAIL_RE.fullmatch(email):
        raise BadRequest(
            "user.email", _("email {email!r} is not an address like name@example.org", email=email)
        )
    if len(password) < 8:
        raise BadRequest("user.password", _("the password is too short: use at least 8 characters"))
    existing = await session.scalar(select(User).where(User.username == username.lower()))
    if existing is not None:
        raise Conflict(
            "user.exists",
            _("user {username!r} already exists: pick another name", username=username),
        )
    user = User(username=username.lower(), email=email, password_hash=hash_password(password))
    session.add(user)
    await session.flush()
    await record(session, "user.create", actor=actor, target=f"user:{user.username}", detail={})
    return user


async def create_token(
    session: AsyncSession,
    username: str,
    *,
    component: str | None = None,
    components: list[str] | None = None,
    actions: list[str] | None = None,
    expires_days: int | None = None,
    never_expires: bool = False,
    expires_at: datetime | None = None,
    default_days: int = DEFAULT_TOKEN_DAYS,
    name: str = "",
    description: str = "",
    origin: str = "user",
    actor: Actor | None = None,
) -> str:
    """Create a token and return its plaintext, the only time it exists outside the caller.

    It expires after `expires_days` (None: `default_days`, the hub's setting), or at
    `expires_at` when given, unless `never_expires` is chosen; its scope is every component
    of the user (no `components`) or the listed ones, which must exist.
    """
    user = await user_named(session, username)
    wanted = list(components or []) + ([component] if component is not None else [])
    component_ids = await component_ids_of(session, wanted) if wanted else None
    chosen = check_actions(list(TOKEN_ACTIONS) if actions is None else actions)
    expires: datetime | None
    if never_expires:
        expires = None
    elif expires_at is not None and expires_days is None:
        expires = expires_at
    else:
        if expires_days is None:
            expires_days = default_days
        if expires_days <= 0:
            raise BadRequest(
                "token.expiry",
                _("--expires-days must be a positive number of days (or choose --never-expires)"),
            )
        expires = datetime.now(UTC) + timedelta(days=expires_days)
    plaintext, _token = await new_token(
        session,
        user,
        component_ids=component_ids,
        scope_names=wanted,
        actions=chosen,
        expires=expires,
        name=name,
        description=description,
        origin=origin,
        actor=actor,
    )
    return plaintext


def check_actions(chosen: list[str]) -> list[str]:
    """Some of upload, yank and manage (at least one)."""
    unknown = sorted(set(chosen) - set(TOKEN_ACTIONS))
    if unknown or not chosen:
        raise BadRequest(
            "token.actions",
            _(
                "token actions must be some of {actions}; got {got}",
                actions=", ".join(TOKEN_ACTIONS),
                got=", ".join(unknown) if unknown else "none",
            ),
        )
    return chosen


async def user_named(session: AsyncSession, username: str) -> User:
    user = await session.scalar(select(User).where(User.username == username.lower()))
    if user is None:
        raise NotFound(
            "user.missing",
            _("no user named {username!r}: create it with `users create`", username=username),
        )
    return user


async def new_token(
    session: AsyncSession,
    user: User,
    *,
    component_ids: list[int] | None,
    scope_names: list[str],
    actions: list[str],
    expires: datetime | None,
    name: str = "",
    description: str = "",
    origin: str = "user",
    actor: Actor | None = None,
) -> tuple[str, ApiToken]:
    """Store a token whose scope, actions and expiry are already checked, and record it; its
    plaintext (shown once) and its row."""
    new = generate_token()
    row = ApiToken(
        token_id=new.token_id,
        secret_hash=new.secret_hash,
        user_id=user.id,
        name=name,
        component_ids=component_ids,
        actions=[a for a in TOKEN_ACTIONS if a in actions],
        description=description,
        expires_at=expires,
        origin=origin,
    )
    session.add(row)
    await record(
        session,
        "token.create",
        actor=actor or Actor(user.id, user.username),
        component_id=component_ids[0] if component_ids and len(component_ids) == 1 else None,
        target=f"user:{user.username}",
        detail={
            "token_id": new.token_id,
            "name": name,
            "components": scope_names,
            "actions": actions,
            "expires": expires.isoformat() if expires else None,
        },
    )
    return new.plaintext, row


async def component_ids_of(session: AsyncSession, names: list[str]) -> list[int]:
    """The ids of the named components (sorted, once each); every one must exist."""
    canonical = [canonicalize_name(item) for item in names]
    rows = await session.execute(
        select(Component.name, Component.id).where(Component.name.in_(set(canonical)))
    )
    found: dict[str, int] = {row[0]: row[1] for row in rows.all()}
    for item, name in zip(names, canonical, strict=True):
        if name not in found:
            raise NotFound(
                "component.missing",
                _(
                    "no component named {item!r}: a scoped token needs an existing component; "
                    "publish it first with an unscoped token",
                    item=item,
                ),
            )
    return sorted(set(found.values()))


async def display_names(session: AsyncSession, ids: Iterable[int]) -> list[str]:
    """The display names of the components with these ids, sorted (a token's scope)."""
    rows = await session.scalars(select(Component.display_name).where(Component.id.in_(set(ids))))
    return sorted(rows)


async def revoke_token(session: AsyncSession, token_id: str, *, actor: Actor | None = None) -> None:
    token = await session.scalar(select(ApiToken).where(ApiToken.token_id == token_id))
    if token is None:
        raise NotFound("token.missing", _("no token with id {token_id!r}", token_id=token_id))
    token.revoked_at = datetime.now(UTC)
    await record(
        session,
        "token.revoke",
        actor=actor,
        target=f"user:{token.user.username}",
        detail={"token_id": token_id},
    )


def token_from_headers(authorization: str | None) -> str:
    """Pull the token from `Basic __token__:<token>` (twine) or `Bearer <token>`."""
    if not authorization:
        raise Unauthorized(
            "auth.missing",
            _(
                "this endpoint needs an API token: send HTTP Basic with username __token__ and "
                "the token as password (twine: -u __token__ -p pshub_...)"
            ),
        )
    scheme, _sep, value = authorization.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise Unauthorized("auth.malformed", _("the Basic credentials are not base64")) from exc
        user, _sep, password = decoded.partition(":")
        if user != "__token__":
            raise Unauthorized(
                "auth.username",
                _(
                    "password logins are not accepted for uploads: use username __token__ and "
                    "an API token as the password"
                ),
            )
        return password
    # A header without a scheme is a bare credential (someone else's token, pasted): never
    # quote it back, the refusal may end up in a public CI log. A scheme word is named.
    if value.strip() and SCHEME_RE.fullmatch(scheme):
        raise Unauthorized(
            "auth.scheme",
            _(
                "unsupported authorization scheme {scheme!r}: send `Bearer <token>`, or HTTP "
                "Basic with username __token__ and the token as password",
                scheme=scheme,
            ),
        )
    raise Unauthorized(
        "auth.scheme",
        _(
            "unsupported authorization scheme: send `Bearer <token>`, or HTTP Basic with "
            "username __token__ and the token as password"
        ),
    )


async def authenticate(
    session: AsyncSession,
    authorization: str | None,
    *,
    ip: str | None = None,
    user_agent: str | None = None,
) -> Identity:
    text = token_from_headers(authorization)
    if text.startswith(SESSION_PREFIX):
        raise Unauthorized(
            "auth.session",
            _(
                "this endpoint takes an API token (pshub_...), not a sign-in session: create a "
                "token with `pysetl-hub tokens create` and send that instead"
            ),
        )
    parsed = parse_token(text)
    if parsed is None:
        raise Unauthorized(
            "auth.token_format", _("the API token is not a PySetl Hub token (pshub_...)")
        )
    token_id, secret = parsed
    token = await session.scalar(select(ApiToken).where(ApiToken.token_id == token_id))
    # Compare even when the row is missing, so timing does not reveal which ids exist.
    stored = token.secret_hash if token is not None else "0" * 64
    if not secret_matches(secret, stored) or token is None:
        raise Unauthorized("auth.invalid", _("the API token is invalid: create a new one"))
    if token.revoked_at is not None:
        raise Unauthorized("auth.revoked", _("the API token was revoked: create a new one"))
    now = datetime.now(UTC)
    if token.expires_at is not None and token.expires_at <= now:
        raise Unauthorized("auth.expired", _("the API token has expired: create a new one"))
    if not token.user.is_active:
        raise Unauthorized(
            "auth.inactive", _("user {username!r} is disabled", username=token.user.username)
        )
    publisher = None
    if token.origin == "oidc" and token.publisher_id is not None:
        row = await session.get(TrustedPublisher, token.publisher_id)
        publisher = row.spec if row is not None else None
    await _mark_used(session, token, now, ip)
    return Identity(
        user_id=token.user_id,
        username=token.user.username,
        token_id=token.token_id,
        components=None if token.component_ids is None else frozenset(token.component_ids),
        actions=frozenset(token.actions or ()),
        # A publisher's token acts for the publisher, not as the (admin) user who registered it.
        is_admin=token.user.is_admin and token.origin != "oidc",
        expires=token.expires_at,
        via="oidc" if token.origin == "oidc" else "token",
        publisher=publisher,
        ip=ip,
        user_agent=user_agent,
    )


# last-used is written at most this often per token, so a burst of uploads is not a burst of
# writes (the IP is written at once when it changes).
LAST_USED_GRANULARITY = timedelta(seconds=60)


async def _mark_used(session: AsyncSession, token: ApiToken, now: datetime, ip: str | None) -> None:
    if (
        token.last_used is not None
        and now - token.last_used < LAST_USED_GRANULARITY
        and token.last_used_ip == ip
    ):
        return
    token.last_used = now
    token.last_used_ip = ip
    await session.commit()


async def identify(
    hub: Hub, authorization: str | None, *, ip: str | None = None, user_agent: str | None = None
) -> Identity:
    """Who a request's Authorization header names, in a session of its own.

    Failed attempts are counted per IP (the `bad_token` limit): past it, the IP is answered 429
    before its tokens are even looked at, so guessing at secrets costs a window per try. A
    missing header is not an attempt and is not counted.
    """
    where = ip or "unknown"
    await hub.limits.check("bad_token", where)
    async with hub.sessions() as session:
        try:
            return await authenticate(session, authorization, ip=ip, user_agent=user_agent)
        except Unauthorized as exc:
            if exc.code != "auth.missing":
                await hub.limits.hit("bad_token", where)
            raise


async def owners_of(session: AsyncSession, component_id: int) -> list[str]:
    rows = await session.scalars(
        select(User.username)
        .join(Role, Role.user_id == User.id)
        .where(Role.component_id == component_id, Role.role == "owner")
        .order_by(User.username)
    )
    return list(rows)


async def token_info(session: AsyncSession, token: ApiToken) -> TokenInfo:
    """A token's public facts, its scope by component name."""
    names = (
        None if token.component_ids is None else await display_names(session, token.component_ids)
    )
    return TokenInfo(
        id=token.token_id,
        created=token.created,
        component=names[0] if names is not None and len(names) == 1 else None,
        components=names,
        actions=sorted(token.actions or ()),
        expires=token.expires_at,
        description=token.description,
        name=token.name,
        last_used=token.last_used,
        last_used_ip=token.last_used_ip,
        revoked=token.revoked_at,
        origin=token.origin,
    )


async def whoami(session: AsyncSession, who: Identity) -> Me:
    """The user and credential behind an authenticated request (`pysetl-hub login`/`whoami`).

    A token is described by its own scope, actions and expiry; a sign-in session says so (it
    is user-wide with every action, until it expires)."""
    if who.via == "session":
        row = await session.get(WebSession, who.session_id) if who.session_id else None
        if row is None:
            raise Unauthorized("auth.session_invalid", _("the session is invalid: sign in again"))
        return Me(
            username=who.username,
            via="session",
            session=SessionInfo(created=row.created, expires=row.expires_at),
        )
    token = await session.scalar(select(ApiToken).where(ApiToken.token_id == who.token_id))
    if token is None:  # deleted since authenticate() read it
        raise Unauthorized("auth.invalid", _("the API token is invalid: create a new one"))
    return Me(username=who.username, token=await token_info(session, token), via=who.via)
