"""Users, tokens and roles: the services behind the CLI and the auth guard."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_schemas import Me, TokenInfo
from pysetl_hub_server.accounts.passwords import hash_password
from pysetl_hub_server.accounts.tokens import generate_token, parse_token, secret_matches
from pysetl_hub_server.audit.services import record
from pysetl_hub_server.db.models import ApiToken, Component, Role, User
from pysetl_hub_server.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}[A-Za-z0-9]$|^[A-Za-z0-9]$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

if TYPE_CHECKING:
    from pysetl_hub_server.hub import Hub


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a request acts as: the user and the token's scope."""

    user_id: int
    username: str
    token_id: str
    scope_component_id: int | None


async def create_user(session: AsyncSession, username: str, email: str, password: str) -> User:
    if not USERNAME_RE.fullmatch(username):
        raise BadRequest(
            "user.name",
            f"username {username!r} is invalid: use 1-64 letters, digits, '.', '_' or '-', "
            "starting and ending with a letter or digit",
        )
    if not EMAIL_RE.fullmatch(email):
        raise BadRequest("user.email", f"email {email!r} is not an address like name@example.org")
    if len(password) < 8:
        raise BadRequest("user.password", "the password is too short: use at least 8 characters")
    existing = await session.scalar(select(User).where(User.username == username.lower()))
    if existing is not None:
        raise Conflict("user.exists", f"user {username!r} already exists: pick another name")
    user = User(username=username.lower(), email=email, password_hash=hash_password(password))
    session.add(user)
    await session.flush()
    await record(session, "user.create", user_id=user.id, detail={"username": user.username})
    return user


async def create_token(
    session: AsyncSession,
    username: str,
    *,
    component: str | None = None,
    expires_days: int | None = None,
    description: str = "",
) -> str:
    """Create a token and return its plaintext, the only time it exists outside the caller."""
    user = await session.scalar(select(User).where(User.username == username.lower()))
    if user is None:
        raise NotFound("user.missing", f"no user named {username!r}: create it with `users create`")
    component_id = None
    if component is not None:
        row = await session.scalar(
            select(Component).where(Component.name == canonicalize_name(component))
        )
        if row is None:
            raise NotFound(
                "component.missing",
                f"no component named {component!r}: a scoped token needs an existing component; "
                "publish it first with an unscoped token",
            )
        component_id = row.id
    if expires_days is not None and expires_days <= 0:
        raise BadRequest("token.expiry", "--expires-days must be a positive number of days")
    new = generate_token()
    expires = datetime.now(UTC) + timedelta(days=expires_days) if expires_days else None
    session.add(
        ApiToken(
            token_id=new.token_id,
            secret_hash=new.secret_hash,
            user_id=user.id,
            component_id=component_id,
            description=description,
            expires_at=expires,
        )
    )
    await record(
        session,
        "token.create",
        user_id=user.id,
        component_id=component_id,
        detail={"token_id": new.token_id, "expires": expires.isoformat() if expires else None},
    )
    return new.plaintext


async def revoke_token(session: AsyncSession, token_id: str) -> None:
    token = await session.scalar(select(ApiToken).where(ApiToken.token_id == token_id))
    if token is None:
        raise NotFound("token.missing", f"no token with id {token_id!r}")
    token.revoked_at = datetime.now(UTC)
    await record(session, "token.revoke", user_id=token.user_id, detail={"token_id": token_id})


def token_from_headers(authorization: str | None) -> str:
    """Pull the token from `Basic __token__:<token>` (twine) or `Bearer <token>`."""
    if not authorization:
        raise Unauthorized(
            "auth.missing",
            "this endpoint needs an API token: send HTTP Basic with username __token__ and the "
            "token as password (twine: -u __token__ -p pshub_...)",
        )
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise Unauthorized("auth.malformed", "the Basic credentials are not base64") from exc
        user, _, password = decoded.partition(":")
        if user != "__token__":
            raise Unauthorized(
                "auth.username",
                "password logins are not accepted for uploads: use username __token__ and an API "
                "token as the password",
            )
        return password
    raise Unauthorized("auth.scheme", f"unsupported authorization scheme {scheme!r}: use Basic")


async def authenticate(session: AsyncSession, authorization: str | None) -> Identity:
    text = token_from_headers(authorization)
    parsed = parse_token(text)
    if parsed is None:
        raise Unauthorized(
            "auth.token_format", "the API token is not a PySetl Hub token (pshub_...)"
        )
    token_id, secret = parsed
    token = await session.scalar(select(ApiToken).where(ApiToken.token_id == token_id))
    # Compare even when the row is missing, so timing does not reveal which ids exist.
    stored = token.secret_hash if token is not None else "0" * 64
    if not secret_matches(secret, stored) or token is None:
        raise Unauthorized("auth.invalid", "the API token is invalid: create a new one")
    if token.revoked_at is not None:
        raise Unauthorized("auth.revoked", "the API token was revoked: create a new one")
    if token.expires_at is not None and token.expires_at <= datetime.now(UTC):
        raise Unauthorized("auth.expired", "the API token has expired: create a new one")
    if not token.user.is_active:
        raise Unauthorized("auth.inactive", f"user {token.user.username!r} is disabled")
    return Identity(token.user_id, token.user.username, token.token_id, token.component_id)


async def identify(hub: Hub, authorization: str | None) -> Identity:
    """Who a request's Authorization header names, in a session of its own."""
    async with hub.sessions() as session:
        return await authenticate(session, authorization)


async def role_of(session: AsyncSession, user_id: int, component_id: int) -> str | None:
    return await session.scalar(
        select(Role.role).where(Role.user_id == user_id, Role.component_id == component_id)
    )


async def require_role(
    session: AsyncSession, who: Identity, component: Component, *, roles: set[str], action: str
) -> None:
    if who.scope_component_id is not None and who.scope_component_id != component.id:
        raise Forbidden(
            "auth.scope",
            f"this token is scoped to another component and cannot {action} "
            f"{component.display_name!r}: use a token scoped to it, or an unscoped token",
        )
    role = await role_of(session, who.user_id, component.id)
    if role not in roles:
        raise Forbidden(
            "auth.role",
            f"user {who.username!r} may not {action} {component.display_name!r}: "
            f"it needs the {' or '.join(sorted(roles))} role; ask an owner to add you",
        )


async def owners_of(session: AsyncSession, component_id: int) -> list[str]:
    rows = await session.scalars(
        select(User.username)
        .join(Role, Role.user_id == User.id)
        .where(Role.component_id == component_id, Role.role == "owner")
        .order_by(User.username)
    )
    return list(rows)


async def whoami(session: AsyncSession, who: Identity) -> Me:
    """The user and token behind an authenticated request (for `pysetl-hub login`/`whoami`)."""
    token = await session.scalar(select(ApiToken).where(ApiToken.token_id == who.token_id))
    if token is None:  # deleted since authenticate() read it
        raise Unauthorized("auth.invalid", "the API token is invalid: create a new one")
    component = None
    if who.scope_component_id is not None:
        component = await session.scalar(
            select(Component.display_name).where(Component.id == who.scope_component_id)
        )
    return Me(
        username=who.username,
        token=TokenInfo(
            id=token.token_id,
            component=component,
            expires=token.expires_at,
            created=token.created,
            description=token.description,
        ),
    )
