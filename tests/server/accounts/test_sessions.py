"""Sign-in sessions over HTTP: password check, cookie, CSRF, rate limit, sign-out, events."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import httpx
import msgspec
import pytest
from sqlalchemy import select, update

from pysetl_hub_schemas import Me, SignedIn
from pysetl_hub_server.accounts import sessions
from pysetl_hub_server.db.models import ApiToken, AuditEvent, User, WebSession
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
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checked: list[str] = []
    real = sessions.verify_password

    def spy(stored: str, password: str) -> bool:
        checked.append(stored)
        return real(stored, password)

    monkeypatch.setattr(sessions, "verify_password", spy)
    r = http.post(
        "/api/v1/session",
        json={"username": username, "password": "wrong-password"},
        headers={"User-Agent": "guesser"},
    )
    assert r.status_code == 401
    assert problem(r)["code"] == "auth.signin"
    assert problem(r)["detail"].startswith("wrong username or password: ")
    assert "set-cookie" not in r.headers
    # an argon2 hash is checked either way (a dummy one for an unknown name): same work, same time
    assert len(checked) == 1 and checked[0].startswith("$argon2id$")
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
