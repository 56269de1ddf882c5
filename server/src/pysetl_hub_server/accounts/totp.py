"""Two-factor sign-in: TOTP codes (RFC 6238, computed by pyotp) and one-use recovery codes.

Turning it on takes two steps, so a user cannot lock themselves out with a secret their app
never read: `enroll` stores a new secret (off), `confirm` turns it on once a code from the app
matches, and returns ten recovery codes, shown once and stored argon2-hashed. A code is good
for one time step only, and never for a step older than the last one accepted, so a code seen
over someone's shoulder cannot be replayed. Enrolling and turning it off take a sign-in
session: an API token, leaked, must not be able to change how its owner signs in.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import pyotp
from sqlalchemy import CursorResult, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_schemas import RecoveryCodes, TotpSetup
from pysetl_hub_server.accounts.passwords import hash_password, verify_password
from pysetl_hub_server.accounts.permissions import Identity
from pysetl_hub_server.audit.services import Actor, record
from pysetl_hub_server.db.models import RecoveryCode, User
from pysetl_hub_server.errors import Conflict, Forbidden, Unauthorized
from pysetl_hub_server.i18n.messages import Message, _

if TYPE_CHECKING:
    from pysetl_hub_server.hub import Hub

ISSUER = "PySetl Hub"
RECOVERY_COUNT = 10


def require_session(who: Identity, words: Message) -> None:
    """Account security is changed from a password sign-in, never with an API token."""
    if who.via != "session":
        raise Forbidden(
            "auth.session_required",
            _(
                "only a signed-in session may {words}, not an API token: sign in with your "
                "password (`POST /api/v1/session`, or the web page) and try again",
                words=words,
            ),
        )


def matching_step(secret: str, code: str, now: float) -> int | None:
    """The time step whose code `code` is: this one or either neighbour (valid_window 1, for
    clocks a little apart), or None."""
    totp = pyotp.TOTP(secret)
    here = totp.timecode(now)
    for offset in (0, -1, 1):
        if totp.verify(code, for_time=now + offset * totp.interval):
            return here + offset
    return None


def _result_rows(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


async def use_totp(session: AsyncSession, user: User, code: str) -> bool:
    """Accept `code` once: the step is stored by a conditional update, so two requests with
    the same code cannot both win, and an older step than the last accepted is refused."""
    if not user.totp_secret:
        return False
    step = matching_step(user.totp_secret, code, time.time())
    if step is None:
        return False
    result = await session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if _result_rows(result) != 1:
        return False
    user.totp_last_step = step
    return True


def normalize_recovery(code: str) -> str:
    return code.strip().lower().replace("-", "").replace(" ", "")


def _new_recovery_code() -> str:
    raw = secrets.token_hex(6)  # 48 random bits; argon2 and the sign-in limit do the rest
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def _first_match(hashes: list[tuple[int, str]], code: str) -> int | None:
    for row_id, stored in hashes:
        if verify_password(stored, code):
            return row_id
    return None


async def use_recovery_code(session: AsyncSession, user: User, code: str) -> bool:
    """Spend one unused recovery code matching `code` (compared with argon2, off the loop)."""
    normalized = normalize_recovery(code)
    if not normalized:
        return False
    rows = await session.execute(
        select(RecoveryCode.id, RecoveryCode.code_hash).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    )
    hashes = [(row_id, stored) for row_id, stored in rows]
    found = await asyncio.to_thread(_first_match, hashes, normalized)
    if found is None:
        return False
    result = await session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.id == found, RecoveryCode.used_at.is_(None))
        .values(used_at=datetime.now(UTC))
        .execution_options(synchronize_session=False)
    )
    return _result_rows(result) == 1


def _looks_like_totp(code: str) -> bool:
    return len(code) == 6 and code.isdigit()


async def second_factor(session: AsyncSession, user: User, otp: str | None, actor: Actor) -> None:
    """Let a sign-in through the second factor, or raise 401 `auth.otp_required` /
    `auth.otp_invalid`. A recovery code used here is recorded."""
    if not user.totp_enabled:
        return
    if not otp or not otp.strip():
        raise Unauthorized(
            "auth.otp_required",
            _(
                "user {user!r} has two-factor sign-in on: send the 6-digit code from the "
                "authenticator app as `otp` (or one of the recovery codes)",
                user=user.username,
            ),
        )
    code = otp.strip().replace(" ", "")
    if _looks_like_totp(code) and await use_totp(session, user, code):
        return
    if not _looks_like_totp(code) and await use_recovery_code(session, user, code):
        left = await _unused_codes(session, user.id)
        await record(
            session,
            "recovery_code.use",
            actor=actor,
            target=f"user:{user.username}",
            detail={"left": left},
        )
        return
    raise Unauthorized(
        "auth.otp_invalid",
        _(
            "the two-factor code is wrong, or was already used: send the code the authenticator"
            " app shows now (each code works once), or an unused recovery code"
        ),
    )


async def _unused_codes(session: AsyncSession, user_id: int) -> int:
    rows = await session.scalars(
        select(RecoveryCode.id).where(
            RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)
        )
    )
    return len(list(rows))


async def _user(session: AsyncSession, who: Identity) -> User:
    user = await session.get(User, who.user_id, with_for_update=True)
    if user is None:  # deleted since the request was authenticated
        raise Unauthorized("auth.session_invalid", _("the session is invalid: sign in again"))
    return user


async def enroll(hub: Hub, who: Identity) -> TotpSetup:
    """Store a new secret, not yet on; confirming a code from it turns it on."""
    require_session(who, _("set up two-factor sign-in"))
    async with hub.sessions() as session:
        user = await _user(session, who)
        if user.totp_enabled:
            raise Conflict(
                "totp.enabled",
                _(
                    "two-factor sign-in is already on for {user!r}: turn it off first (with a "
                    "current code or a recovery code) to set up another authenticator",
                    user=user.username,
                ),
            )
        secret = pyotp.random_base32()
        user.totp_secret = secret
        user.totp_last_step = None
        await session.commit()
    uri = pyotp.TOTP(secret).provisioning_uri(name=who.username, issuer_name=ISSUER)
    return TotpSetup(secret=secret, uri=uri)


async def confirm(hub: Hub, who: Identity, code: str) -> RecoveryCodes:
    """Turn two-factor sign-in on with a code from the new secret; return recovery codes."""
    require_session(who, _("turn on two-factor sign-in"))
    async with hub.sessions() as session:
        user = await _user(session, who)
        if user.totp_enabled:
            raise Conflict(
                "totp.enabled",
                _("two-factor sign-in is already on for {user!r}", user=who.username),
            )
        if not user.totp_secret:
            raise Conflict(
                "totp.not_enrolled",
                _("there is no authenticator to confirm: start with `POST /api/v1/me/totp`"),
            )
        if not await use_totp(session, user, code.strip().replace(" ", "")):
            raise Unauthorized(
                "auth.otp_invalid",
                _(
                    "the code does not match the new secret: check the authenticator app's "
                    "clock, and send the code it shows now"
                ),
            )
        codes = [_new_recovery_code() for _ in range(RECOVERY_COUNT)]
        hashes = await asyncio.to_thread(
            lambda: [hash_password(normalize_recovery(c)) for c in codes]
        )
        await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        session.add_all(RecoveryCode(user_id=user.id, code_hash=h) for h in hashes)
        user.totp_enabled = True
        await record(
            session, "totp.enable", actor=who.actor, target=f"user:{user.username}", detail={}
        )
        await session.commit()
    return RecoveryCodes(codes=codes)


async def disable(hub: Hub, who: Identity, code: str) -> None:
    """Turn two-factor sign-in off; proving the factor (a code or a recovery code) is part of
    it, so a session left open on someone else's screen cannot do it."""
    require_session(who, _("turn off two-factor sign-in"))
    # guessing a code here is guessing one at sign-in: the same limit
    await hub.limits.hit("signin", f"user:{who.username}")
    async with hub.sessions() as session:
        user = await _user(session, who)
        if not user.totp_enabled:
            raise Conflict(
                "totp.disabled", _("two-factor sign-in is not on for {user!r}", user=who.username)
            )
        await second_factor(session, user, code, who.actor)
        user.totp_enabled = False
        user.totp_secret = None
        user.totp_last_step = None
        await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        await record(
            session, "totp.disable", actor=who.actor, target=f"user:{user.username}", detail={}
        )
        await session.commit()
