"""Reading the audit trail over HTTP: who may read which events, and who sees where they came
from (IP address, user agent); e-mail addresses never leave."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from pysetl_hub_server.audit.services import Actor, record
from pysetl_hub_server.db.models import Component, Role, User
from pysetl_hub_server.hub import Hub
from tests.support.live import LiveServer
from tests.support.upload import problem

AGENT = {"User-Agent": "curious-agent/1.0"}
FULL_EMAIL = re.compile(r"[A-Za-z0-9._-]{2,}@")  # a masked one keeps its first letter only


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def grant(live: LiveServer, username: str, component: str, role: str) -> None:
    async def go(hub: Hub) -> None:
        async with hub.sessions() as s:
            user = await s.scalar(select(User.id).where(User.username == username))
            c = await s.scalar(select(Component.id).where(Component.name == component))
            assert user is not None and c is not None
            s.add(Role(user_id=user, component_id=c, role=role))
            await s.commit()

    live.run(go)


def make_admin(live: LiveServer, username: str) -> None:
    async def go(hub: Hub) -> None:
        async with hub.sessions() as s:
            await s.execute(update(User).where(User.username == username).values(is_admin=True))
            await s.commit()

    live.run(go)


def note_with_email(live: LiveServer) -> None:
    """An event whose detail quotes an e-mail address (a sigstore publisher identity)."""

    async def go(hub: Hub) -> None:
        async with hub.sessions() as s:
            c = await s.scalar(select(Component.id).where(Component.name == "csv-dedupe"))
            await record(
                s,
                "publisher.add",
                actor=Actor(None, "alice", "198.51.100.7", "ua"),
                component_id=c,
                target="component:csv-dedupe",
                detail={"publisher": "sigstore:alice.cooper@example.org"},
            )
            await s.commit()

    live.run(go)


def events(http: httpx.Client, path: str, token: str, **params: Any) -> list[dict[str, Any]]:
    response = http.get(path, headers=bearer(token), params=params)
    assert response.status_code == 200, response.text
    assert not FULL_EMAIL.search(response.text)  # no e-mail address, whoever reads
    found: list[dict[str, Any]] = response.json()["events"]
    return found


@pytest.fixture
def people(live: LiveServer, http: httpx.Client, published_catalog: str) -> dict[str, str]:
    """alice owns the catalog; bob maintains csv-dedupe and yanked 1.0.0 from his own
    machine; root is an admin; mallory has no role."""
    bob = live.user_with_token("bob")
    grant(live, "bob", "csv-dedupe", "maintainer")
    r = http.post(
        "/api/v1/components/csv-dedupe/1.0.0/yank",
        json={"reason": "broken"},
        headers=bearer(bob, **AGENT),
    )
    assert r.status_code == 200, r.text
    note_with_email(live)
    root = live.user_with_token("root")
    make_admin(live, "root")
    mallory = live.user_with_token("mallory")
    return {"alice": published_catalog, "bob": bob, "root": root, "mallory": mallory}


def test_owners_read_their_components_events_newest_first(
    http: httpx.Client, people: dict[str, str]
) -> None:
    found = events(http, "/api/v1/components/csv-dedupe/events", people["alice"])
    ids = [e["id"] for e in found]
    assert ids == sorted(ids, reverse=True)
    actions = [e["action"] for e in found]
    assert actions[:2] == ["publisher.add", "release.yank"]
    assert {"component.create", "release.create", "file.upload"} <= set(actions)
    assert all(e["component"] == "csv-dedupe" for e in found)
    assert found[0]["detail"]["publisher"] == "sigstore:a***@example.org"


def test_owners_see_their_own_origin_but_not_a_maintainers(
    http: httpx.Client, people: dict[str, str]
) -> None:
    found = events(http, "/api/v1/components/csv-dedupe/events", people["alice"])
    yank = next(e for e in found if e["action"] == "release.yank")
    assert yank["actor"] == "bob"
    assert (yank["ip"], yank["user_agent"]) == (None, None)
    upload = next(e for e in found if e["action"] == "file.upload")
    assert upload["actor"] == "alice" and upload["ip"] == "127.0.0.1"


def test_admins_see_every_event_with_its_origin(http: httpx.Client, people: dict[str, str]) -> None:
    found = events(http, "/api/v1/admin/events", people["root"], per_page=100)
    yank = next(e for e in found if e["action"] == "release.yank")
    assert (yank["ip"], yank["user_agent"]) == ("127.0.0.1", "curious-agent/1.0")
    assert {"user.create", "token.create", "file.upload"} <= {e["action"] for e in found}


@pytest.mark.parametrize(
    ("who", "path", "status", "code"),
    [
        ("bob", "/api/v1/components/csv-dedupe/events", 403, "auth.role"),
        ("mallory", "/api/v1/components/csv-dedupe/events", 403, "auth.role"),
        ("alice", "/api/v1/admin/events", 403, "auth.admin"),
        ("bob", "/api/v1/admin/events", 403, "auth.admin"),
        (None, "/api/v1/components/csv-dedupe/events", 401, "auth.missing"),
        (None, "/api/v1/admin/events", 401, "auth.missing"),
        (None, "/api/v1/me/events", 401, "auth.missing"),
        ("alice", "/api/v1/components/nope/events", 404, "component.missing"),
    ],
)
def test_who_may_not_read(
    http: httpx.Client,
    people: dict[str, str],
    who: str | None,
    path: str,
    status: int,
    code: str,
) -> None:
    response = http.get(path, headers=bearer(people[who]) if who else {})
    assert response.status_code == status
    assert problem(response)["code"] == code


def test_a_token_without_manage_may_not_read_a_components_events(
    live: LiveServer, http: httpx.Client, people: dict[str, str]
) -> None:
    async def go(hub: Hub) -> str:
        from pysetl_hub_server.accounts.services import create_token

        async with hub.sessions() as s:
            token = await create_token(s, "alice", actions=["upload"])
            await s.commit()
            return token

    upload_only = live.run(go)
    response = http.get("/api/v1/components/csv-dedupe/events", headers=bearer(upload_only))
    assert response.status_code == 403
    assert problem(response)["code"] == "auth.token_action"


def test_my_events_are_my_account_and_tokens_with_their_origin(
    http: httpx.Client, people: dict[str, str]
) -> None:
    mine = events(http, "/api/v1/me/events", people["bob"])
    assert {e["action"] for e in mine} == {"user.create", "token.create"}
    assert all(e["target"] == "user:bob" for e in mine)
    # bob's yank is a component event, not a security event of his account
    assert "release.yank" not in {e["action"] for e in mine}


def test_pages_follow_each_other_without_gaps(http: httpx.Client, people: dict[str, str]) -> None:
    every = events(http, "/api/v1/admin/events", people["root"], per_page=100)
    seen: list[int] = []
    before: int | None = None
    while True:
        params: dict[str, Any] = {"per_page": 3, **({"before": before} if before else {})}
        response = http.get("/api/v1/admin/events", headers=bearer(people["root"]), params=params)
        page = response.json()
        seen += [e["id"] for e in page["events"]]
        before = page["next_before"]
        if before is None:
            break
    assert seen == [e["id"] for e in every]
