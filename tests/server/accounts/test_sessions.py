"""Sign-in sessions over HTTP: password check, cookie, CSRF, rate limit, sign-out, events."""

from __future__ import annotations

import hashlib
import hmac
import statistics
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import httpx
import msgspec
import pyotp
import pytest
from sqlalchemy import select, update

from pysetl_hub_schemas import Me, SignedIn, SignIn
from pysetl_hub_server.accounts import sessions
from pysetl_hub_server.accounts.permissions import Identity
from pysetl_hub_server.accounts.services import create_token
from pysetl_hub_server.db.models import ApiToken, AuditEvent, RecoveryCode, User, WebSession
from pysetl_hub_server.errors import Forbidden, HubError
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.security.ratelimit import Limiter
from tests.support.live import LiveServer
from tests.support.upload import problem, upload

PASSWORD = "password123"  # what live.user_with_token gives every user


def sign_in(
    http: httpx.Client, username: str, password: str = PASSWORD, **extra: Any
) -> httpx.Response:
    return http.post("/api/v1/session", json={"username": username, "password": password, **extra})


def signed(r: httpx.Response) -> SignedIn:
    assert r.status_code == 200, r.text
    return msgspec.json.decode(r.content, type=SignedIn)


def rows(live: LiveServer, model: Any, *where: Any) -> list[Any]:
    async def go(hub: Hub) -> list[Any]:
        async with hub.sessions() as s:
            return list(await s.scalars(select(model).where(*where)))

    return live.run(go)


def audit(live: LiveServer, action: str) -> list[AuditEvent]:
    return rows(live, AuditEvent, AuditEvent.action == action)


def limit(live: LiveServer, policy: str, value: str) -> None:
    cast(Limiter, live.hub.limits).override(policy, value)


@pytest.fixture
def alice(live: LiveServer) -> str:
    """alice exists (password123) and has an API token."""
    return live.user_with_token("alice")


def test_sign_in_opens_a_session_and_sets_a_safe_cookie(
    live: LiveServer, http: httpx.Client, alice: str
) -> None:
    r = http.post(
        "/api/v1/session",
        json={"username": "Alice", "password": PASSWORD},
        headers={"User-Agent": "browser/1"},
    )
    body = signed(r)
    assert body.username == "alice" and body.session.startswith("pshubs_")
    assert abs((body.expires - datetime.now(UTC) - timedelta(hours=12)).total_seconds()) < 60
    assert body.csrf_token == sessions.csrf_token(body.session)
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"pshub_session={body.session};")
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=lax", "path=/"} <= attributes
    assert "secure" not in attributes  # plain http here; https gets Secure (below)
    [row] = rows(live, WebSession)
    assert row.session_hash == hashlib.sha256(body.session.encode()).hexdigest()
    assert (row.ip, row.user_agent, row.revoked_at) == ("127.0.0.1", "browser/1", None)
    [event] = audit(live, "signin.success")
    assert (event.actor, event.target, event.ip, event.user_agent) == (
        "alice", "user:alice", "127.0.0.1", "browser/1",
    )  # fmt: skip
    assert PASSWORD not in str(event.detail) and body.session not in str(event.detail)
    # the cookie (httpx keeps it) and the CLI's Bearer both sign in as a session
    for headers in ({}, {"Authorization": f"Bearer {body.session}"}):
        me = msgspec.json.decode(http.get("/api/v1/me", headers=headers).content, type=Me)
        assert (me.username, me.via, me.token) == ("alice", "session", None)
        assert me.session is not None and me.session.expires == body.expires


def test_the_cookie_is_secure_when_the_request_came_over_https(
    live: LiveServer, alice: str
) -> None:
    from litestar.testing import TestClient

    from pysetl_hub_server.app import create_litestar
    from pysetl_hub_server.runtime import build_hub

    app = create_litestar(build_hub(live.settings))  # its own hub: the app's lifespan closes it
    with TestClient(app, base_url="https://hub.test") as client:
        r = client.post("/api/v1/session", json={"username": "alice", "password": PASSWORD})
    assert r.status_code == 200, r.text
    assert "secure" in {p.strip().lower() for p in r.headers["set-cookie"].split(";")}


@pytest.mark.parametrize("username", ["alice", "nobody"])
def test_a_wrong_password_or_an_unknown_user_get_the_same_refusal(
    live: LiveServer,
    http: httpx.Client,
    alice: str,
    username: str,
) -> None:
    r = http.post(
        "/api/v1/session",
        json={"username": username, "password": "wrong-password"},
        headers={"User-Agent": "guesser"},
    )
    assert r.status_code == 401
    assert problem(r)["code"] == "auth.signin"
    assert problem(r)["detail"].startswith("wrong username or password: ")
    assert "set-cookie" not in r.headers
    [event] = audit(live, "signin.failure")
    if username == "alice":
        assert event.detail == {"username": username, "reason": "auth.signin"}
        assert event.target == "user:alice"
    else:  # a name that is no user (a password typed in the wrong field?) is not kept
        assert event.detail == {"reason": "auth.signin", "unknown_user": True}
        assert (event.target, event.actor) == ("user:?", "unknown-user")
        assert username not in str(event.detail) + event.actor + event.target
    assert (event.ip, event.user_agent) == ("127.0.0.1", "guesser")
    assert "wrong-password" not in str(event.detail) + event.actor + event.target
    # a failure on a real user is on that user's record, so they can see it
    [user_id] = [u.id for u in rows(live, User, User.username == "alice")]
    assert event.user_id == (user_id if username == "alice" else None)
    assert rows(live, WebSession) == []


def test_a_disabled_user_cannot_sign_in(live: LiveServer, http: httpx.Client, alice: str) -> None:
    async def disable(hub: Hub) -> None:
        async with hub.sessions() as s:
            await s.execute(update(User).where(User.username == "alice").values(is_active=False))
            await s.commit()

    live.run(disable)
    r = sign_in(http, "alice")
    assert r.status_code == 401 and problem(r)["code"] == "auth.inactive"
    r = sign_in(http, "alice", "wrong-password")  # only the right password learns it
    assert r.status_code == 401 and problem(r)["code"] == "auth.signin"


def test_sign_in_is_rate_limited_per_user_and_per_address(
    live: LiveServer, http: httpx.Client, alice: str
) -> None:
    live.user_with_token("bob")
    limit(live, "signin", "3/5 minutes")
    for _ in range(3):
        assert sign_in(http, "alice", "wrong-password").status_code == 401
    r = sign_in(http, "alice")  # even the right password waits now
    assert r.status_code == 429 and problem(r)["code"] == "rate.signin"
    assert 0 < int(r.headers["retry-after"]) <= 300
    r = sign_in(http, "bob")  # and so does this address for another name
    assert r.status_code == 429 and problem(r)["code"] == "rate.signin"


def test_a_success_forgets_the_names_failures(
    live: LiveServer, http: httpx.Client, alice: str
) -> None:
    limit(live, "signin", "3/5 minutes")

    async def forget_address(hub: Hub) -> None:
        await live.hub.limits.clear("signin", "ip:127.0.0.1")

    assert sign_in(http, "alice", "wrong-password").status_code == 401
    signed(sign_in(http, "alice"))
    live.run(forget_address)
    for _ in range(3):  # the name's count starts again after the success
        assert sign_in(http, "alice", "wrong-password").status_code == 401


@pytest.fixture
def browser(live: LiveServer, alice: str) -> Iterator[tuple[httpx.Client, SignedIn]]:
    """A client that signed in and holds the cookie, as a browser would."""
    with httpx.Client(base_url=live.url, timeout=30) as client:
        yield client, signed(sign_in(client, "alice"))


def test_a_cross_site_form_with_only_the_cookie_is_refused(
    live: LiveServer, browser: tuple[httpx.Client, SignedIn]
) -> None:
    client, session = browser
    before = len(rows(live, ApiToken))
    # what another site's <form method=post> can send: the cookie rides along, no header
    r = client.post("/api/v1/me/totp", data={"x": "1"})
    assert r.status_code == 403 and problem(r)["code"] == "auth.csrf"
    r = client.post("/api/v1/tokens", data={"name": "evil"})
    assert r.status_code in (400, 403)
    r = client.post("/api/v1/tokens", json={"name": "evil"})
    assert r.status_code == 403 and problem(r)["code"] == "auth.csrf"
    r = client.post("/api/v1/tokens", json={"name": "evil"}, headers={"X-CSRF-Token": "0" * 64})
    assert r.status_code == 403 and problem(r)["code"] == "auth.csrf"
    assert len(rows(live, ApiToken)) == before
    # reads need no header; a change with the header bound to the session goes through
    assert client.get("/api/v1/tokens").status_code == 200
    r = client.post(
        "/api/v1/tokens", json={"name": "mine"}, headers={"X-CSRF-Token": session.csrf_token}
    )
    assert r.status_code == 201, r.text
    # the CLI's Bearer session is not a cookie: no CSRF header needed
    with httpx.Client(base_url=live.url) as cli:
        r = cli.post(
            "/api/v1/tokens",
            json={"name": "cli"},
            headers={"Authorization": f"Bearer {session.session}"},
        )
        assert r.status_code == 201, r.text


def test_sign_in_takes_json_only(live: LiveServer, http: httpx.Client, alice: str) -> None:
    # a cross-site form can send text/plain without a preflight: that must not sign anyone in
    r = http.post(
        "/api/v1/session",
        content=b'{"username": "alice", "password": "password123"}',
        headers={"Content-Type": "text/plain"},
    )
    assert r.status_code == 400 and problem(r)["code"] == "signin.content_type"
    assert "set-cookie" not in r.headers
    assert rows(live, WebSession) == []


def test_sign_out_ends_the_session(
    live: LiveServer, browser: tuple[httpx.Client, SignedIn], alice: str
) -> None:
    client, session = browser
    r = client.delete("/api/v1/session")
    assert r.status_code == 403 and problem(r)["code"] == "auth.csrf"
    r = client.delete("/api/v1/session", headers={"X-CSRF-Token": session.csrf_token})
    assert r.status_code == 204
    assert 'pshub_session=""' in r.headers["set-cookie"] or "Max-Age=0" in r.headers["set-cookie"]
    [row] = rows(live, WebSession)
    assert row.revoked_at is not None
    [event] = audit(live, "signout")
    assert event.actor == "alice"
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {session.session}"})
    assert r.status_code == 401 and problem(r)["code"] == "auth.session_invalid"
    # a token is not a session: it is revoked through the tokens API instead
    with httpx.Client(base_url=live.url) as other:
        r = other.delete("/api/v1/session", headers={"Authorization": f"Bearer {alice}"})
    assert r.status_code == 400 and problem(r)["code"] == "session.none"


def test_an_expired_session_is_refused(live: LiveServer, http: httpx.Client, alice: str) -> None:
    session = signed(sign_in(http, "alice")).session

    async def expire(hub: Hub) -> None:
        async with hub.sessions() as s:
            past = datetime.now(UTC) - timedelta(seconds=1)
            await s.execute(update(WebSession).values(expires_at=past))
            await s.commit()

    live.run(expire)
    r = http.get("/api/v1/me", headers={"Authorization": f"Bearer {session}"})
    assert r.status_code == 401 and problem(r)["code"] == "auth.session_invalid"


def test_sign_in_drops_the_users_sessions_ended_over_a_day_ago(
    live: LiveServer, http: httpx.Client, alice: str
) -> None:
    old, recent = signed(sign_in(http, "alice")), signed(sign_in(http, "alice"))
    live.user_with_token("bob")
    bobs = signed(sign_in(http, "bob"))

    async def age(hub: Hub) -> None:
        async with hub.sessions() as s:
            for signed_in, ended in ((old, 25), (recent, 23), (bobs, 48)):
                digest = hashlib.sha256(signed_in.session.encode()).hexdigest()
                past = datetime.now(UTC) - timedelta(hours=ended)
                await s.execute(
                    update(WebSession)
                    .where(WebSession.session_hash == digest)
                    .values(expires_at=past)
                )
            await s.commit()

    live.run(age)
    signed(sign_in(http, "alice"))
    kept = {r.session_hash for r in rows(live, WebSession)}
    old_hash, recent_hash, bobs_hash = (
        hashlib.sha256(x.session.encode()).hexdigest() for x in (old, recent, bobs)
    )
    assert old_hash not in kept  # alice's, ended 25 h ago
    assert recent_hash in kept  # ended 23 h ago: still in her history
    assert bobs_hash in kept  # another user's sign-in does not touch bob's rows


def test_uploads_take_api_tokens_only(
    live: LiveServer, browser: tuple[httpx.Client, SignedIn], example_dists: dict[str, Path]
) -> None:
    client, session = browser
    wheel = example_dists["csv-dedupe:wheel"]
    r = upload(client, session.session, wheel)  # twine's Basic __token__:<session>
    assert r.status_code == 401 and problem(r)["code"] == "auth.session"
    assert "not a sign-in session" in problem(r)["detail"]
    r = upload(client, None, wheel)  # the cookie alone
    assert r.status_code == 401 and problem(r)["code"] == "auth.missing"


# -- in-process: the sign-in service and the request's identity, without a server ------------


@pytest.fixture(scope="module")
def password_hash() -> str:
    from pysetl_hub_server.accounts.passwords import hash_password

    return hash_password(PASSWORD)


async def make_alice(hub: Hub, password_hash: str, **fields: Any) -> int:
    async with hub.sessions() as s:
        user = User(username="alice", email="a@example.org", password_hash=password_hash, **fields)
        s.add(user)
        await s.commit()
        return user.id


async def test_an_unknown_name_costs_the_same_argon2_work_as_a_wrong_password(
    offline_hub: Hub, password_hash: str
) -> None:
    """Timing tells no names: a name that is no user is checked against a real argon2 hash (a
    dummy one), so it is refused no faster than a wrong password. Measured, not spied on: the
    real check runs, interleaved, five times each; a skipped check would be ~1000x faster."""
    await make_alice(offline_hub, password_hash)
    async with offline_hub.sessions() as s:
        alice = await s.scalar(select(User).where(User.username == "alice"))
    wrong = SignIn(username="alice", password="wrong-password")
    unknown = SignIn(username="nobody", password="wrong-password")
    await refused_in(sessions._check_password(None, unknown))  # the dummy hash is made once

    async def timed(user: User | None, form: SignIn) -> float:
        start = time.perf_counter()
        await refused_in(sessions._check_password(user, form))
        return time.perf_counter() - start

    known_times, unknown_times = [], []
    for _ in range(5):
        known_times.append(await timed(alice, wrong))
        unknown_times.append(await timed(None, unknown))
    known, unknown_ = statistics.median(known_times), statistics.median(unknown_times)
    assert known > 0.002  # a real argon2 verification, not a string compare
    assert 0.5 < unknown_ / known < 2, (known_times, unknown_times)


async def refused_in(check: Any) -> None:
    with pytest.raises(HubError) as refused:
        await check
    assert refused.value.code == "auth.signin"


async def events_of(hub: Hub, action: str) -> list[AuditEvent]:
    async with hub.sessions() as s:
        return list(await s.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def csrf_of(secret: str) -> str:
    """The documented derivation: HMAC-SHA256 keyed with the session secret."""
    return hmac.new(secret.encode(), b"pysetl-hub csrf", hashlib.sha256).hexdigest()


async def test_sign_in_opens_a_session_for_12_hours(offline_hub: Hub, password_hash: str) -> None:
    user_id = await make_alice(offline_hub, password_hash)
    form = SignIn(username="  Alice ", password=PASSWORD)
    before = datetime.now(UTC)
    signed_in = await sessions.sign_in(offline_hub, form, ip="192.0.2.1", user_agent="b" * 300)
    assert signed_in.username == "alice" and signed_in.session.startswith("pshubs_")
    assert len(signed_in.session) == len("pshubs_") + 43  # 32 random bytes
    assert signed_in.csrf_token == csrf_of(signed_in.session)
    async with offline_hub.sessions() as s:
        (row,) = await s.scalars(select(WebSession))
    assert row.session_hash == hashlib.sha256(signed_in.session.encode()).hexdigest()
    assert (row.user_id, row.ip, row.user_agent) == (user_id, "192.0.2.1", "b" * 256)
    assert before + timedelta(hours=12) <= row.expires_at <= datetime.now(UTC) + timedelta(hours=12)
    assert signed_in.expires == row.expires_at
    (event,) = await events_of(offline_hub, "signin.success")
    assert (event.actor, event.target, event.user_id, event.ip) == (
        "alice", "user:alice", user_id, "192.0.2.1",
    )  # fmt: skip
    assert event.detail == {"username": "alice", "second_factor": False}
    # no user agent: none stored
    await sessions.sign_in(offline_hub, form, ip=None, user_agent=None)
    async with offline_hub.sessions() as s:
        rows_ = list(await s.scalars(select(WebSession).order_by(WebSession.id)))
    assert (rows_[1].ip, rows_[1].user_agent) == (None, None)


@pytest.mark.parametrize(
    ("fields", "username", "password", "code", "detail"),
    [
        ({}, "alice", "wrong-password", "auth.signin", "wrong username or password: check both "
         "(usernames are not case-sensitive); after 10 attempts in 5 minutes sign-in pauses"),
        ({}, "nobody", PASSWORD, "auth.signin", "wrong username or password: check both "
         "(usernames are not case-sensitive); after 10 attempts in 5 minutes sign-in pauses"),
        ({"is_active": False}, "alice", PASSWORD, "auth.inactive",
         "user 'alice' is disabled: ask the hub's admin"),
        ({"is_active": False}, "alice", "wrong-password", "auth.signin", None),
        ({"totp_enabled": True, "totp_secret": "JBSWY3DPEHPK3PXP"}, "alice", PASSWORD,
         "auth.otp_required", None),
    ],
)  # fmt: skip
async def test_a_refused_sign_in_is_recorded_and_opens_nothing(
    offline_hub: Hub, password_hash: str, fields: dict[str, Any], username: str,
    password: str, code: str, detail: str | None,
) -> None:  # fmt: skip
    user_id = await make_alice(offline_hub, password_hash, **fields)
    form = SignIn(username=username, password=password)
    with pytest.raises(HubError) as refused:
        await sessions.sign_in(offline_hub, form, ip="192.0.2.1", user_agent="ua/1")
    assert (refused.value.status, refused.value.code) == (401, code)
    assert detail is None or refused.value.detail == detail
    (event,) = await events_of(offline_hub, "signin.failure")
    known = username == "alice"  # a name that is no user is not kept (it may be a password)
    assert (event.actor, event.target, event.ip, event.user_agent) == (
        username if known else "unknown-user", f"user:{username}" if known else "user:?",
        "192.0.2.1", "ua/1",
    )  # fmt: skip
    assert event.user_id == (user_id if known else None)
    assert event.detail == (
        {"username": username, "reason": code} if known
        else {"reason": code, "unknown_user": True}
    )  # fmt: skip
    async with offline_hub.sessions() as s:
        assert list(await s.scalars(select(WebSession))) == []


async def test_a_success_clears_the_name_s_failures_not_the_address_s(
    offline_hub: Hub, password_hash: str
) -> None:
    await make_alice(offline_hub, password_hash)
    cast(Limiter, offline_hub.limits).override("signin", "2/5 minutes")
    wrong = SignIn(username="alice", password="wrong-password")
    right = SignIn(username="alice", password=PASSWORD)

    async def attempt(form: SignIn, ip: str | None) -> str:
        try:
            await sessions.sign_in(offline_hub, form, ip=ip, user_agent=None)
        except HubError as exc:
            return exc.code
        return "ok"

    assert await attempt(wrong, "192.0.2.1") == "auth.signin"
    assert await attempt(right, "192.0.2.2") == "ok"  # the name's count starts again
    assert [await attempt(wrong, "192.0.2.3") for _ in range(2)] == ["auth.signin"] * 2
    assert await attempt(right, "192.0.2.4") == "rate.signin"  # the name is full
    await offline_hub.limits.clear("signin", "user:alice")
    assert await attempt(right, "192.0.2.3") == "rate.signin"  # and so is that address
    # requests without an address share one count
    assert [await attempt(right, None) for _ in range(3)] == ["ok", "ok", "rate.signin"]


async def test_a_second_factor_signs_in_with_a_code_or_a_recovery_code(
    offline_hub: Hub, password_hash: str
) -> None:
    from pysetl_hub_server.accounts.passwords import hash_password

    secret = pyotp.random_base32()
    user_id = await make_alice(offline_hub, password_hash, totp_enabled=True, totp_secret=secret)
    async with offline_hub.sessions() as s:
        s.add(RecoveryCode(user_id=user_id, code_hash=hash_password("abcdef012345")))
        await s.commit()
    for otp in (pyotp.TOTP(secret).now(), "abcd-ef01-2345"):
        form = SignIn(username="alice", password=PASSWORD, otp=otp)
        await sessions.sign_in(offline_hub, form, ip="192.0.2.1", user_agent=None)
    assert [e.detail for e in await events_of(offline_hub, "signin.success")] == [
        {"username": "alice", "second_factor": True}
    ] * 2
    (used,) = await events_of(offline_hub, "recovery_code.use")
    assert (used.actor, used.user_id, used.ip) == ("alice", user_id, "192.0.2.1")


async def signed_in_alice(hub: Hub, password_hash: str, **fields: Any) -> tuple[int, str]:
    user_id = await make_alice(hub, password_hash, **fields)
    form = SignIn(username="alice", password=PASSWORD)
    return user_id, (await sessions.sign_in(hub, form, ip=None, user_agent=None)).session


async def test_a_session_is_a_user_wide_identity_until_it_ends(
    offline_hub: Hub, password_hash: str
) -> None:
    user_id, secret = await signed_in_alice(offline_hub, password_hash, is_admin=True)
    async with offline_hub.sessions() as s:
        who = await sessions.session_identity(s, secret, ip="192.0.2.9", user_agent="ua/2")
        (row,) = await s.scalars(select(WebSession))
    assert who == Identity(
        user_id=user_id, username="alice", token_id=None, components=None,
        actions=frozenset({"upload", "yank", "manage"}), is_admin=True, expires=row.expires_at,
        via="session", ip="192.0.2.9", user_agent="ua/2", session_id=row.id,
    )  # fmt: skip
    for ended in (
        update(WebSession).values(expires_at=datetime.now(UTC)),
        update(WebSession).values(expires_at=datetime.now(UTC) + timedelta(hours=1),
                                  revoked_at=datetime.now(UTC)),
    ):  # fmt: skip
        async with offline_hub.sessions() as s:
            await s.execute(ended)
            await s.commit()
        for wrong in (secret, "pshubs_unknown"):
            async with offline_hub.sessions() as s:
                with pytest.raises(HubError) as refused:
                    await sessions.session_identity(s, wrong, ip=None, user_agent=None)
            assert (refused.value.code, refused.value.detail) == (
                "auth.session_invalid",
                "the sign-in session has expired or was ended: sign in again",
            )


async def test_a_disabled_user_s_session_stops_working(
    offline_hub: Hub, password_hash: str
) -> None:
    _, secret = await signed_in_alice(offline_hub, password_hash)
    async with offline_hub.sessions() as s:
        await s.execute(update(User).values(is_active=False))
        await s.commit()
        with pytest.raises(HubError) as refused:
            await sessions.session_identity(s, secret, ip=None, user_agent=None)
    assert (refused.value.code, refused.value.detail) == (
        "auth.inactive",
        "the session's user is disabled",
    )


async def test_last_use_is_written_at_most_once_a_minute(
    offline_hub: Hub, password_hash: str
) -> None:
    _, secret = await signed_in_alice(offline_hub, password_hash)

    async def use() -> datetime | None:
        async with offline_hub.sessions() as s:
            await sessions.session_identity(s, secret, ip=None, user_agent=None)
        async with offline_hub.sessions() as s:
            return await s.scalar(select(WebSession.last_used))

    first = await use()
    assert first is not None and abs((first - datetime.now(UTC)).total_seconds()) < 60
    assert await use() == first
    for ago, written in ((59, False), (61, True)):
        earlier = datetime.now(UTC) - timedelta(seconds=ago)
        async with offline_hub.sessions() as s:
            await s.execute(update(WebSession).values(last_used=earlier))
            await s.commit()
        assert (await use() != earlier) is written


@pytest.mark.parametrize(
    ("authorization", "found"),
    [
        ("Bearer pshubs_abc", "pshubs_abc"),
        ("bearer   pshubs_abc  ", "pshubs_abc"),
        ("Bearer pshub_0123456789abcdef_" + "x" * 43, None),  # an API token
        ("Basic cHNodWJzX2FiYw==", None),
        ("pshubs_abc", None),
        ("", None),
        (None, None),
    ],
)
def test_a_session_travels_as_a_bearer_only(authorization: str | None, found: str | None) -> None:
    assert sessions.bearer_session(authorization) == found


async def test_who_a_request_is(offline_hub: Hub, password_hash: str) -> None:
    _, secret = await signed_in_alice(offline_hub, password_hash)
    async with offline_hub.sessions() as s:
        token = await create_token(s, "alice")
        await s.commit()

    async def identify(**kw: Any) -> Identity:
        base: dict[str, Any] = {"authorization": None, "cookie": None, "csrf": None}
        base |= {"method": "GET", "ip": "192.0.2.1", "user_agent": "ua/3"}
        return await sessions.identify_request(offline_hub, **(base | kw))

    by_cookie = await identify(cookie=secret)
    assert (by_cookie.via, by_cookie.ip, by_cookie.user_agent) == ("session", "192.0.2.1", "ua/3")
    assert (await identify(authorization=f"Bearer {secret}", method="POST")).via == "session"
    by_token = await identify(authorization=f"Bearer {token}", cookie=secret, method="POST")
    assert (by_token.via, by_token.ip, by_token.user_agent) == ("token", "192.0.2.1", "ua/3")
    good = sessions.csrf_token(secret)
    for method in ("POST", "delete", "PATCH", "PUT"):
        assert (await identify(cookie=secret, method=method, csrf=good)).via == "session"
        for csrf in (None, "", "0" * 64, sessions.csrf_token("pshubs_other")):
            with pytest.raises(Forbidden) as refused:
                await identify(cookie=secret, method=method, csrf=csrf)
            assert (refused.value.code, refused.value.detail) == (
                "auth.csrf",
                f"a {method.upper()} signed in by the session cookie must send the X-CSRF-Token "
                "header with the csrf_token given at sign-in; this keeps other sites' forms from "
                "acting in your name",
            )
    for method in ("HEAD", "OPTIONS", "get"):
        assert (await identify(cookie=secret, method=method)).via == "session"
    with pytest.raises(HubError) as nothing:
        await identify()
    assert nothing.value.code == "auth.missing"


async def test_sign_out_ends_only_a_session_and_once(offline_hub: Hub, password_hash: str) -> None:
    _, secret = await signed_in_alice(offline_hub, password_hash)
    async with offline_hub.sessions() as s:
        who = await sessions.session_identity(s, secret, ip="192.0.2.1", user_agent=None)
    token = Identity(who.user_id, "alice", "0123456789abcdef")
    with pytest.raises(HubError) as not_a_session:
        await sessions.sign_out(offline_hub, token)
    assert (not_a_session.value.code, not_a_session.value.detail) == (
        "session.none",
        "this request is signed in with an API token, not a session: revoke a token with "
        "`DELETE /api/v1/tokens/{id}` (`pysetl-hub tokens revoke ID`)",
    )
    with pytest.raises(HubError):
        await sessions.sign_out(offline_hub, Identity(who.user_id, "alice", None, via="session"))
    await sessions.sign_out(offline_hub, who)
    await sessions.sign_out(offline_hub, who)  # harmless, and not a second event
    async with offline_hub.sessions() as s:
        assert await s.scalar(select(WebSession.revoked_at)) is not None
    assert [(e.actor, e.target, e.ip) for e in await events_of(offline_hub, "signout")] == [
        ("alice", "user:alice", "192.0.2.1")
    ]
