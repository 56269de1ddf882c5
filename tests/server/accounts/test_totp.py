"""Two-factor sign-in over HTTP: set-up, codes good once, recovery codes, turning it off."""

from __future__ import annotations

import asyncio
import time
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import httpx
import pyotp
import pytest
from sqlalchemy import select, update

from pysetl_hub_server.accounts.passwords import hash_password, verify_password
from pysetl_hub_server.accounts.permissions import Identity
from pysetl_hub_server.accounts.totp import (
    confirm,
    disable,
    enroll,
    matching_step,
    normalize_recovery,
    second_factor,
    use_recovery_code,
    use_totp,
)
from pysetl_hub_server.audit.services import Actor
from pysetl_hub_server.db.models import AuditEvent, RecoveryCode, User
from pysetl_hub_server.errors import Conflict, Forbidden, TooManyRequests, Unauthorized
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.security.ratelimit import Limiter
from tests.support.live import LiveServer
from tests.support.upload import problem

PASSWORD = "password123"


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def sign_in(http: httpx.Client, otp: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"username": "alice", "password": PASSWORD}
    if otp is not None:
        body["otp"] = otp
    return http.post("/api/v1/session", json=body)


def session(http: httpx.Client, otp: str | None = None) -> str:
    r = sign_in(http, otp)
    assert r.status_code == 200, r.text
    return str(r.json()["session"])


def not_a_code_now(secret: str) -> str:
    """A six-digit code that no accepted step (this one and its neighbours, with a step's
    margin either side) gives: a wrong code for sure, not one in a million."""
    near = {step_code(secret, k) for k in range(-2, 3)}
    return next(
        c for c in ("000000", "111111", "222222", "333333", "444444", "555555") if c not in near
    )


def step_code(secret: str, steps_ahead: int) -> str:
    """The code of the time step `steps_ahead` from now (what the app shows then)."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


def actions(live: LiveServer) -> list[str]:
    async def go(hub: Hub) -> list[str]:
        async with hub.sessions() as s:
            return list(await s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))

    return live.run(go)


def recovery_rows(live: LiveServer) -> list[RecoveryCode]:
    async def go(hub: Hub) -> list[RecoveryCode]:
        async with hub.sessions() as s:
            return list(await s.scalars(select(RecoveryCode)))

    return live.run(go)


@pytest.fixture
def enrolled(live: LiveServer, http: httpx.Client) -> tuple[str, list[str], str]:
    """alice with two-factor sign-in on: her TOTP secret, recovery codes, and the code that
    confirmed it (spent)."""
    live.user_with_token("alice")
    signed_in = session(http)
    r = http.post("/api/v1/me/totp", headers=bearer(signed_in))
    assert r.status_code == 200, r.text
    secret, uri = r.json()["secret"], r.json()["uri"]
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert parse_qs(parts.query)["secret"] == [secret]
    assert parse_qs(parts.query)["issuer"] == ["PySetl Hub"] and "alice" in parts.path
    # not on until a code from the app confirms it
    assert session(http)
    wrong = not_a_code_now(secret)
    r = http.post("/api/v1/me/totp/confirm", json={"code": wrong}, headers=bearer(signed_in))
    assert r.status_code == 401 and problem(r)["code"] == "auth.otp_invalid"
    confirmed = step_code(secret, 0)
    r = http.post("/api/v1/me/totp/confirm", json={"code": confirmed}, headers=bearer(signed_in))
    assert r.status_code == 200, r.text
    return secret, r.json()["codes"], confirmed


def test_confirming_turns_it_on_with_ten_hashed_recovery_codes(
    live: LiveServer, enrolled: tuple[str, list[str], str]
) -> None:
    _, codes, _ = enrolled
    assert len(codes) == 10 == len(set(codes))
    stored = recovery_rows(live)
    assert len(stored) == 10
    for row in stored:
        assert row.code_hash.startswith("$argon2id$") and row.used_at is None
        assert all(code.replace("-", "") not in row.code_hash for code in codes)
    assert "totp.enable" in actions(live)


def test_sign_in_then_needs_a_code_good_once(
    live: LiveServer, http: httpx.Client, enrolled: tuple[str, list[str], str]
) -> None:
    secret, _, confirmed = enrolled
    r = sign_in(http)
    assert r.status_code == 401 and problem(r)["code"] == "auth.otp_required"
    assert "set-cookie" not in r.headers
    r = sign_in(http, "123456" if step_code(secret, 0) != "123456" else "654321")
    assert r.status_code == 401 and problem(r)["code"] == "auth.otp_invalid"
    # the code confirmed with was spent on its time step: replaying it fails
    r = sign_in(http, confirmed)
    assert r.status_code == 401 and problem(r)["code"] == "auth.otp_invalid"
    # the next step's code is in the window (clock drift), once
    following = step_code(secret, 1)
    assert session(http, following)
    r = sign_in(http, following)
    assert r.status_code == 401 and problem(r)["code"] == "auth.otp_invalid"
    # and codes further off are not
    r = sign_in(http, step_code(secret, 3))
    assert r.status_code == 401 and problem(r)["code"] == "auth.otp_invalid"

    async def failures(hub: Hub) -> list[str]:
        async with hub.sessions() as s:
            rows = await s.scalars(select(AuditEvent).where(AuditEvent.action == "signin.failure"))
            return [e.detail["reason"] for e in rows]

    assert live.run(failures) == [
        "auth.otp_required", "auth.otp_invalid", "auth.otp_invalid", "auth.otp_invalid",
        "auth.otp_invalid",
    ]  # fmt: skip


def test_wrong_codes_count_toward_the_sign_in_limit(
    live: LiveServer, http: httpx.Client, enrolled: tuple[str, list[str], str]
) -> None:
    secret, _, _ = enrolled
    cast(Limiter, live.hub.limits).override("signin", "3/5 minutes")
    for _ in range(3):
        assert sign_in(http, "12345x").status_code == 401
    r = sign_in(http, step_code(secret, 1))
    assert r.status_code == 429 and problem(r)["code"] == "rate.signin"


def test_a_recovery_code_signs_in_once(
    live: LiveServer, http: httpx.Client, enrolled: tuple[str, list[str], str]
) -> None:
    _, codes, _ = enrolled
    assert session(http, codes[3].upper())  # case and dashes do not matter
    r = sign_in(http, codes[3])
    assert r.status_code == 401 and problem(r)["code"] == "auth.otp_invalid"
    assert sum(row.used_at is not None for row in recovery_rows(live)) == 1
    assert actions(live).count("recovery_code.use") == 1


def test_turning_it_off_needs_a_code(
    live: LiveServer, http: httpx.Client, enrolled: tuple[str, list[str], str]
) -> None:
    secret, codes, _ = enrolled
    signed_in = session(http, step_code(secret, 1))
    r = http.post("/api/v1/me/totp/disable", json={"code": "nope"}, headers=bearer(signed_in))
    assert r.status_code == 401 and problem(r)["code"] == "auth.otp_invalid"
    r = http.post("/api/v1/me/totp/disable", json={"code": codes[0]}, headers=bearer(signed_in))
    assert r.status_code == 204, r.text
    assert recovery_rows(live) == []
    assert "totp.disable" in actions(live)
    assert session(http)  # no code needed any more

    async def user(hub: Hub) -> User | None:
        async with hub.sessions() as s:
            return await s.scalar(select(User).where(User.username == "alice"))

    row = live.run(user)
    assert row is not None
    assert (row.totp_enabled, row.totp_secret, row.totp_last_step) == (False, None, None)


def test_only_a_signed_in_session_may_change_it(
    live: LiveServer, http: httpx.Client, enrolled: tuple[str, list[str], str]
) -> None:
    secret, _, _ = enrolled
    token = live.user_with_token("alice")
    for path, body in [
        ("/api/v1/me/totp", None),
        ("/api/v1/me/totp/confirm", {"code": "123456"}),
        ("/api/v1/me/totp/disable", {"code": "123456"}),
    ]:
        r = http.post(path, json=body, headers=bearer(token))
        assert r.status_code == 403 and problem(r)["code"] == "auth.session_required", path
    # with it on, setting up another authenticator first needs it off
    signed_in = session(http, step_code(secret, 1))
    r = http.post("/api/v1/me/totp", headers=bearer(signed_in))
    assert r.status_code == 409 and problem(r)["code"] == "totp.enabled"


# -- in-process: the services and their rules, without a server -------------------------------

SECRET = pyotp.random_base32()
RECOVERY = ["abcd-ef01-2345", "1111-2222-3333"]


@pytest.fixture(scope="module")
def recovery_hashes() -> list[str]:
    """argon2 is slow on purpose: the two recovery codes are hashed once for the module."""
    return [hash_password(normalize_recovery(c)) for c in RECOVERY]


async def two_factor_user(hub: Hub, hashes: list[str], *, on: bool = True) -> tuple[int, Identity]:
    """alice with SECRET enrolled (on, with the two recovery codes, unless `on` is False); the
    last code accepted (when she confirmed) was ten steps ago."""
    last = pyotp.TOTP(SECRET).timecode(time.time()) - 10
    async with hub.sessions() as s:
        user = User(username="alice", email="a@example.org", password_hash="x",
                    totp_secret=SECRET, totp_enabled=on, totp_last_step=last)  # fmt: skip
        s.add(user)
        await s.flush()
        if on:
            s.add_all(RecoveryCode(user_id=user.id, code_hash=h) for h in hashes)
        await s.commit()
        return user.id, Identity(user.id, "alice", None, via="session", ip="192.0.2.1")


async def alice_row(hub: Hub) -> User:
    async with hub.sessions() as s:
        user = await s.scalar(select(User).where(User.username == "alice"))
        assert user is not None
        return user


async def events_of(hub: Hub, action: str) -> list[AuditEvent]:
    async with hub.sessions() as s:
        return list(await s.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def at_step(offset: int) -> str:
    return pyotp.TOTP(SECRET).at(time.time() + 30 * offset)


def test_a_code_matches_its_step_or_a_neighbour_only() -> None:
    now = time.time()
    here = pyotp.TOTP(SECRET).timecode(now)
    for offset in (-1, 0, 1):
        assert matching_step(SECRET, pyotp.TOTP(SECRET).at(now + 30 * offset), now) == here + offset
    for offset in (-2, 2):
        assert matching_step(SECRET, pyotp.TOTP(SECRET).at(now + 30 * offset), now) is None


async def test_a_code_is_good_once_and_never_for_an_older_step(
    offline_hub: Hub, recovery_hashes: list[str]
) -> None:
    await two_factor_user(offline_hub, recovery_hashes)
    async with offline_hub.sessions() as s:
        user = await s.scalar(select(User))
        assert user is not None
        assert await use_totp(s, user, at_step(1))
        here = pyotp.TOTP(SECRET).timecode(time.time())
        assert user.totp_last_step == here + 1
        assert not await use_totp(s, user, at_step(1))  # spent
        assert not await use_totp(s, user, at_step(0))  # older than the last one accepted
        assert not await use_totp(s, user, "000000" if at_step(0) != "000000" else "111111")
        user.totp_secret = None
        assert not await use_totp(s, user, at_step(1))  # no secret: nothing matches


def test_recovery_codes_are_read_without_case_dashes_or_spaces() -> None:
    assert normalize_recovery("  ABCD-ef01 2345 ") == "abcdef012345"


async def test_a_recovery_code_is_spent_once(offline_hub: Hub, recovery_hashes: list[str]) -> None:
    await two_factor_user(offline_hub, recovery_hashes)
    async with offline_hub.sessions() as s:
        user = await s.scalar(select(User))
        assert user is not None
        assert not await use_recovery_code(s, user, " - ")  # nothing left once normalized
        assert not await use_recovery_code(s, user, "ffff-ffff-ffff")
        assert await use_recovery_code(s, user, "1111 2222 3333")
        assert not await use_recovery_code(s, user, "1111-2222-3333")
        used = list(await s.scalars(select(RecoveryCode).where(RecoveryCode.used_at.is_not(None))))
        assert len(used) == 1 and used[0].code_hash == recovery_hashes[1]


async def test_a_recovery_code_is_its_owner_s_only(
    offline_hub: Hub, recovery_hashes: list[str]
) -> None:
    await two_factor_user(offline_hub, recovery_hashes)
    async with offline_hub.sessions() as s:
        bob = User(username="bob", email="b@example.org", password_hash="x")
        s.add(bob)
        await s.flush()
        s.add(RecoveryCode(user_id=bob.id, code_hash=hash_password("bbbbcccc0000")))
        await s.commit()
        alice = await s.scalar(select(User).where(User.username == "alice"))
        assert alice is not None
        assert not await use_recovery_code(s, alice, "bbbb-cccc-0000")
        assert await use_recovery_code(s, bob, "bbbb-cccc-0000")


async def test_two_requests_racing_with_one_recovery_code_get_in_once(
    offline_hub: Hub, recovery_hashes: list[str]
) -> None:
    """Both find the code unused; the conditional update lets only the first spend it."""
    user_id, _ = await two_factor_user(offline_hub, recovery_hashes)

    async def use() -> bool:
        async with offline_hub.sessions() as s:
            user = await s.get(User, user_id)
            assert user is not None
            spent = await use_recovery_code(s, user, RECOVERY[0])
            await s.commit()
            return spent

    assert sorted(await asyncio.gather(use(), use())) == [False, True]


async def test_the_second_factor_at_sign_in(offline_hub: Hub, recovery_hashes: list[str]) -> None:
    await two_factor_user(offline_hub, recovery_hashes)
    async with offline_hub.sessions() as s:  # bob's codes are not alice's
        bob = User(username="bob", email="b@example.org", password_hash="x")
        s.add(bob)
        await s.flush()
        s.add_all(RecoveryCode(user_id=bob.id, code_hash=h) for h in recovery_hashes)
        await s.commit()
    actor = Actor(None, "alice", "192.0.2.1", "ua/1")
    async with offline_hub.sessions() as s:
        user = await s.scalar(select(User))
        assert user is not None
        for otp in (None, "  "):
            with pytest.raises(Unauthorized) as required:
                await second_factor(s, user, otp, actor)
            assert (required.value.code, required.value.detail) == (
                "auth.otp_required",
                "user 'alice' has two-factor sign-in on: send the 6-digit code from the "
                "authenticator app as `otp` (or one of the recovery codes)",
            )
        code = at_step(0)
        await second_factor(s, user, f" {code[:3]} {code[3:]} ", actor)  # spaces are ignored
        for wrong in (code, "12345", "abcdef012345x"):
            with pytest.raises(Unauthorized) as invalid:
                await second_factor(s, user, wrong, actor)
            assert (invalid.value.code, invalid.value.detail) == (
                "auth.otp_invalid",
                "the two-factor code is wrong, or was already used: send the code the "
                "authenticator app shows now (each code works once), or an unused recovery code",
            )
        await second_factor(s, user, "ABCD-EF01-2345", actor)
        # a recovery code of digits only, typed without its dashes, is still a recovery code
        await second_factor(s, user, "111122223333", actor)
        await s.commit()
    first, second = await events_of(offline_hub, "recovery_code.use")
    assert (first.actor, first.ip, first.target, first.detail) == (
        "alice", "192.0.2.1", "user:alice", {"left": 1},
    )  # fmt: skip
    assert second.detail == {"left": 0}


async def test_without_two_factor_no_code_is_asked(offline_hub: Hub) -> None:
    await two_factor_user(offline_hub, [], on=False)
    async with offline_hub.sessions() as s:
        user = await s.scalar(select(User))
        assert user is not None
        await second_factor(s, user, None, Actor(None, "alice"))


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda hub, who: enroll(hub, who), "set up two-factor sign-in"),
        (lambda hub, who: confirm(hub, who, "123456"), "turn on two-factor sign-in"),
        (lambda hub, who: disable(hub, who, "123456"), "turn off two-factor sign-in"),
    ],
)
async def test_only_a_sign_in_session_changes_the_second_factor(
    offline_hub: Hub, call: Any, words: str
) -> None:
    token = Identity(1, "alice", "0123456789abcdef")
    with pytest.raises(Forbidden) as refused:
        await call(offline_hub, token)
    assert (refused.value.code, refused.value.detail) == (
        "auth.session_required",
        f"only a signed-in session may {words}, not an API token: sign in with your password "
        "(`POST /api/v1/session`, or the web page) and try again",
    )


async def test_enroll_then_confirm_turns_it_on(offline_hub: Hub) -> None:
    user_id, who = await two_factor_user(offline_hub, [], on=False)
    async with offline_hub.sessions() as s:
        await s.execute(update(User).values(totp_secret=None, totp_last_step=5))
        await s.commit()
    with pytest.raises(Conflict) as nothing:
        await confirm(offline_hub, who, "123456")
    assert (nothing.value.code, nothing.value.detail) == (
        "totp.not_enrolled",
        "there is no authenticator to confirm: start with `POST /api/v1/me/totp`",
    )
    setup = await enroll(offline_hub, who)
    assert setup.uri == pyotp.TOTP(setup.secret).provisioning_uri(
        name="alice", issuer_name="PySetl Hub"
    )
    row = await alice_row(offline_hub)
    assert (row.totp_secret, row.totp_last_step, row.totp_enabled) == (setup.secret, None, False)
    code = pyotp.TOTP(setup.secret).now()
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(Unauthorized) as mismatch:
        await confirm(offline_hub, who, wrong)
    assert (mismatch.value.code, mismatch.value.detail) == (
        "auth.otp_invalid",
        "the code does not match the new secret: check the authenticator app's clock, and send "
        "the code it shows now",
    )
    async with offline_hub.sessions() as s:  # a stale code left from an earlier set-up
        s.add(RecoveryCode(user_id=user_id, code_hash="stale"))
        await s.commit()
    codes = (await confirm(offline_hub, who, f" {code[:3]} {code[3:]}")).codes
    assert len(codes) == 10 == len(set(codes))
    assert all(len(c) == 14 and c[4] == c[9] == "-" for c in codes)
    assert all(int(c.replace("-", ""), 16) >= 0 for c in codes)  # hexadecimal
    assert (await alice_row(offline_hub)).totp_enabled
    async with offline_hub.sessions() as s:
        stored = list(await s.scalars(select(RecoveryCode.code_hash)))
    assert len(stored) == 10 and "stale" not in stored
    assert verify_password(stored[0], normalize_recovery(codes[0]))
    (enabled,) = await events_of(offline_hub, "totp.enable")
    assert (enabled.actor, enabled.ip, enabled.target) == ("alice", "192.0.2.1", "user:alice")
    with pytest.raises(Conflict) as again:
        await enroll(offline_hub, who)
    assert (again.value.code, again.value.detail) == (
        "totp.enabled",
        "two-factor sign-in is already on for 'alice': turn it off first (with a current code or "
        "a recovery code) to set up another authenticator",
    )
    with pytest.raises(Conflict) as confirmed:
        await confirm(offline_hub, who, code)
    assert (confirmed.value.code, confirmed.value.detail) == (
        "totp.enabled",
        "two-factor sign-in is already on for 'alice'",
    )


async def test_disable_proves_the_factor_and_clears_everything(
    offline_hub: Hub, recovery_hashes: list[str]
) -> None:
    _, who = await two_factor_user(offline_hub, recovery_hashes)
    with pytest.raises(Unauthorized):
        await disable(offline_hub, who, "nope")
    await disable(offline_hub, who, RECOVERY[0])  # a recovery code does it too, and is recorded
    (used,) = await events_of(offline_hub, "recovery_code.use")
    assert (used.actor, used.ip) == ("alice", "192.0.2.1")
    row = await alice_row(offline_hub)
    assert (row.totp_enabled, row.totp_secret, row.totp_last_step) == (False, None, None)
    async with offline_hub.sessions() as s:
        assert list(await s.scalars(select(RecoveryCode))) == []
    (disabled,) = await events_of(offline_hub, "totp.disable")
    assert (disabled.actor, disabled.ip, disabled.target) == ("alice", "192.0.2.1", "user:alice")
    with pytest.raises(Conflict) as off:
        await disable(offline_hub, who, at_step(0))
    assert (off.value.code, off.value.detail) == (
        "totp.disabled",
        "two-factor sign-in is not on for 'alice'",
    )


async def test_guessing_codes_to_disable_counts_as_sign_in_attempts(
    offline_hub: Hub, recovery_hashes: list[str]
) -> None:
    _, who = await two_factor_user(offline_hub, recovery_hashes)
    cast(Limiter, offline_hub.limits).override("signin", "2/5 minutes")
    for _ in range(2):
        with pytest.raises(Unauthorized):
            await disable(offline_hub, who, "123")
    with pytest.raises(TooManyRequests):
        await disable(offline_hub, who, at_step(0))
    await offline_hub.limits.clear("signin", "user:alice")
    await disable(offline_hub, who, at_step(0))


async def test_a_deleted_user_s_session_changes_nothing(offline_hub: Hub) -> None:
    gone = Identity(999, "ghost", None, via="session")
    with pytest.raises(Unauthorized) as refused:
        await enroll(offline_hub, gone)
    assert (refused.value.code, refused.value.detail) == (
        "auth.session_invalid",
        "the session is invalid: sign in again",
    )
