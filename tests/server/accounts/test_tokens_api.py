"""The tokens API over HTTP: create (secret once), list, revoke, the narrower rule, last use."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from sqlalchemy import select

from pysetl_hub_schemas import Me, TokenCreated, TokenList
from pysetl_hub_server.db.models import AuditEvent
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.settings import Settings
from tests.conftest import start_hub
from tests.support.live import LiveServer
from tests.support.upload import problem


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def create(http: httpx.Client, credential: str, **body: Any) -> httpx.Response:
    return http.post("/api/v1/tokens", json=body, headers=bearer(credential))


def created(r: httpx.Response) -> TokenCreated:
    assert r.status_code == 201, r.text
    return msgspec.json.decode(r.content, type=TokenCreated)


def listing(http: httpx.Client, credential: str) -> TokenList:
    r = http.get("/api/v1/tokens", headers=bearer(credential))
    assert r.status_code == 200, r.text
    return msgspec.json.decode(r.content, type=TokenList)


def session_of(http: httpx.Client, username: str) -> str:
    r = http.post("/api/v1/session", json={"username": username, "password": "password123"})
    assert r.status_code == 200, r.text
    return str(r.json()["session"])


def in_days(moment: datetime | None, days: float) -> bool:
    expected = datetime.now(UTC) + timedelta(days=days)
    return moment is not None and abs((moment - expected).total_seconds()) < 60


@pytest.fixture
def session(live: LiveServer, http: httpx.Client, published_catalog: str) -> str:
    """alice signed in (she owns csv-dedupe and daily-sales-pipeline)."""
    return session_of(http, "alice")


def test_create_shows_the_secret_once_and_list_and_revoke(
    live: LiveServer, http: httpx.Client, session: str
) -> None:
    new = created(
        create(http, session, name="laptop", components=["CSV_Dedupe"], actions=["upload"])
    )
    assert new.token.startswith(f"pshub_{new.info.id}_")
    info = new.info
    assert (info.name, info.components, info.component, info.actions) == (
        "laptop", ["csv-dedupe"], "csv-dedupe", ["upload"],
    )  # fmt: skip
    assert in_days(info.expires, 90) and info.revoked is None and info.origin == "user"
    r = http.get("/api/v1/tokens", headers=bearer(session))
    secret = new.token.split("_", 2)[2]
    assert secret not in r.text  # never listed again
    mine = listing(http, session).tokens
    assert [t.name for t in mine] == ["laptop", ""]  # newest first; the fixture's token last
    assert mine[0] == info
    # the token works, within its scope
    me = msgspec.json.decode(http.get("/api/v1/me", headers=bearer(new.token)).content, type=Me)
    assert me.token is not None and me.token.components == ["csv-dedupe"]
    assert me.token.actions == ["upload"] and me.token.name == "laptop"
    r = http.delete(f"/api/v1/tokens/{info.id}", headers=bearer(session))
    assert r.status_code == 200 and r.json()["revoked"] is not None
    r = http.get("/api/v1/me", headers=bearer(new.token))
    assert r.status_code == 401 and problem(r)["code"] == "auth.revoked"
    assert listing(http, session).tokens[0].revoked is not None  # revoked ones stay listed
    # revoking twice is harmless (one event)
    assert http.delete(f"/api/v1/tokens/{info.id}", headers=bearer(session)).status_code == 200

    async def events(hub: Hub) -> list[AuditEvent]:
        async with hub.sessions() as s:
            rows = await s.scalars(
                select(AuditEvent).where(AuditEvent.action.in_(["token.create", "token.revoke"]))
            )
            return [e for e in rows if e.detail.get("token_id") == info.id]

    made, revoked = live.run(events)
    assert (made.action, made.actor, made.ip) == ("token.create", "alice", "127.0.0.1")
    assert (revoked.action, revoked.actor, revoked.target) == (
        "token.revoke",
        "alice",
        "user:alice",
    )


def test_expiry_is_the_default_a_number_of_days_or_never_by_choice(
    http: httpx.Client, session: str
) -> None:
    assert in_days(created(create(http, session, name="a")).info.expires, 90)
    assert in_days(created(create(http, session, name="b", expires_days=3)).info.expires, 3)
    assert created(create(http, session, name="c", never_expires=True)).info.expires is None
    r = create(http, session, name="d", never_expires=True, expires_days=3)
    assert r.status_code == 400 and problem(r)["code"] == "token.expiry"
    for bad in ({"expires_days": 0}, {"actions": []}, {"actions": ["delete"]}, {"name": ""}):
        r = create(http, session, **{"name": "e", **bad})
        assert r.status_code == 400, bad
    r = create(http, session, name="f", components=["no-such-thing"])
    assert r.status_code == 404 and problem(r)["code"] == "component.missing"


def test_the_default_expiry_is_a_setting(
    tmp_path: Path, database_url: str, http: httpx.Client, live: LiveServer
) -> None:
    assert Settings.from_env({"PYSETL_HUB_TOKEN_DEFAULT_DAYS": "7"}).token_default_days == 7
    assert Settings.from_env({}).token_default_days == 90
    other = start_hub(tmp_path / "other", database_url, token_default_days=7)
    try:
        with httpx.Client(base_url=other.url) as client:
            other.user_with_token("carol")
            made = created(create(client, session_of(client, "carol"), name="x"))
        assert in_days(made.info.expires, 7)
    finally:
        other.stop()


@pytest.fixture
def narrow(http: httpx.Client, session: str) -> str:
    """alice's token for uploads to csv-dedupe, for 10 days."""
    scope = {"components": ["csv-dedupe"], "actions": ["upload"]}
    return created(create(http, session, name="narrow", expires_days=10, **scope)).token


@pytest.mark.parametrize(
    ("body", "wider"),
    [
        ({"components": ["daily-sales-pipeline"], "actions": ["upload"]}, ["components"]),
        ({"components": ["csv-dedupe", "daily-sales-pipeline"]}, ["actions", "components"]),
        ({}, ["actions", "components"]),  # user-wide, every action
        ({"components": ["csv-dedupe"], "actions": ["yank"]}, ["actions"]),
        ({"components": ["csv-dedupe"], "actions": ["upload"], "expires_days": 30}, ["expiry"]),
        ({"components": ["csv-dedupe"], "actions": ["upload"], "never_expires": True}, ["expiry"]),
    ],
)
def test_a_token_may_not_create_a_wider_token(
    http: httpx.Client, narrow: str, body: dict[str, Any], wider: list[str]
) -> None:
    r = create(http, narrow, name="wider", **body)
    assert r.status_code == 403, r.text
    p = problem(r)
    assert p["code"] == "token.wider" and p["extra"] == {"wider": wider}
    assert p["detail"].startswith("a token may only create a narrower token, and this one is wider")
    assert "`pysetl-hub login --password`" in p["detail"]
    if "components" in wider and body.get("components"):
        assert "'daily-sales-pipeline' is outside this token's scope" in p["detail"]


def test_a_token_may_create_a_narrower_one(http: httpx.Client, narrow: str, session: str) -> None:
    parent = listing(http, session).tokens
    [mine] = [t for t in parent if t.name == "narrow"]
    same = created(create(http, narrow, name="same", components=["csv-dedupe"], actions=["upload"]))
    # no expiry asked: the default, cut to the creating token's own
    assert same.info.expires == mine.expires
    shorter = created(
        create(
            http,
            narrow,
            name="short",
            components=["csv-dedupe"],
            actions=["upload"],
            expires_days=2,
        )
    )
    assert in_days(shorter.info.expires, 2)
    # a user-wide, never-expiring token may create any token of its user
    wide = created(create(http, session, name="wide", never_expires=True)).token
    assert created(create(http, wide, name="any", never_expires=True)).info.expires is None
    assert created(create(http, wide, name="scoped", components=["daily-sales-pipeline"]))


def test_tokens_are_listed_and_revoked_by_their_owner_only(
    live: LiveServer, http: httpx.Client, session: str, narrow: str
) -> None:
    bob = live.user_with_token("bob")
    theirs = listing(http, bob).tokens
    assert len(theirs) == 1 and all(t.name != "narrow" for t in theirs)
    [mine] = [t for t in listing(http, session).tokens if t.name == "narrow"]
    r = http.delete(f"/api/v1/tokens/{mine.id}", headers=bearer(bob))
    assert r.status_code == 404 and problem(r)["code"] == "token.missing"
    r = http.delete(f"/api/v1/tokens/{theirs[0].id}", headers=bearer(session))
    assert r.status_code == 404
    # a token revokes what is no wider than itself (itself included), nothing wider
    wide = next(t for t in listing(http, session).tokens if t.name == "")
    r = http.delete(f"/api/v1/tokens/{wide.id}", headers=bearer(narrow))
    assert r.status_code == 403 and problem(r)["code"] == "token.wider"
    assert "may only revoke a narrower token" in problem(r)["detail"]
    r = http.delete(f"/api/v1/tokens/{mine.id}", headers=bearer(narrow))
    assert r.status_code == 200
    assert http.get("/api/v1/me", headers=bearer(narrow)).status_code == 401


def test_a_list_shows_when_and_from_where_a_token_was_last_used(
    http: httpx.Client, session: str
) -> None:
    new = created(create(http, session, name="used"))
    assert (new.info.last_used, new.info.last_used_ip) == (None, None)
    assert http.get("/api/v1/me", headers=bearer(new.token)).status_code == 200
    [row] = [t for t in listing(http, session).tokens if t.id == new.info.id]
    assert row.last_used is not None
    assert abs((row.last_used - datetime.now(UTC)).total_seconds()) < 60
    assert row.last_used_ip == "127.0.0.1"


@pytest.fixture
def anonymous(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url) as client:
        yield client


def test_the_tokens_api_needs_a_credential(anonymous: httpx.Client) -> None:
    for method, path in [("GET", "/api/v1/tokens"), ("POST", "/api/v1/tokens"),
                         ("DELETE", "/api/v1/tokens/0123456789abcdef")]:  # fmt: skip
        r = anonymous.request(method, path, json={"name": "x"} if method == "POST" else None)
        assert r.status_code == 401 and problem(r)["code"] == "auth.missing"
