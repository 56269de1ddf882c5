"""The first publish through trusted publishing, on SQLite and PostgreSQL.

A publisher registered for a name nobody has published reserves it for the registering user;
CI mints with its OIDC token and its first upload creates the first release. The minted token
uploads only there: another component is `auth.scope`, a yank is `auth.token_action`, and after
15 minutes (or once its publisher is removed) it is refused.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update

from pysetl_hub_server.db.models import ApiToken, AuditEvent, File, Role, User
from pysetl_hub_server.hub import Hub
from tests.conftest import start_hub
from tests.support.live import LiveServer
from tests.support.oidc_issuer import LocalIssuer
from tests.support.upload import problem, upload

MINT = "/api/v1/oidc/mint-token"
PUBLISHER = {"kind": "github", "repository": "acme/csv-dedupe", "workflow": "release.yml"}


@pytest.fixture
def issuer() -> Iterator[LocalIssuer]:
    server = LocalIssuer("github")
    yield server
    server.stop()


@pytest.fixture
def hub(tmp_path: Path, database_url: str, issuer: LocalIssuer) -> Iterator[LiveServer]:
    server = start_hub(tmp_path, database_url, oidc=issuer.settings())
    yield server
    server.stop()


@pytest.fixture
def api(hub: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=hub.url, timeout=30) as client:
        yield client


def test_first_publish_through_a_pending_publisher(
    hub: LiveServer, api: httpx.Client, issuer: LocalIssuer, example_dists: dict[str, Path]
) -> None:
    alice = hub.user_with_token("alice")
    auth = {"Authorization": f"Bearer {alice}"}
    # alice reserves csv-dedupe by registering its publisher; nothing is published yet
    assert api.post("/api/v1/components/csv-dedupe/publishers", json=PUBLISHER,
                    headers=auth).status_code == 201  # fmt: skip
    # she publishes another component of her own with her token
    assert upload(api, alice, example_dists["daily-sales-pipeline:wheel"]).status_code == 200

    minted = api.post(MINT, json={"token": issuer.sign()})
    assert minted.status_code == 200, minted.text
    assert minted.json()["components"] == ["csv-dedupe"]
    token = minted.json()["token"]

    r = upload(api, token, example_dists["csv-dedupe:wheel"])
    assert r.status_code == 200, r.text
    release = api.get("/api/v1/components/csv-dedupe/1.0.0")
    assert release.status_code == 200 and release.json()["files"]

    async def recorded(h: Hub) -> tuple[str, str]:
        async with h.sessions() as s:
            event = await s.scalar(
                select(AuditEvent)
                .where(AuditEvent.action == "file.upload")
                .order_by(AuditEvent.id.desc())
            )
            uploader = await s.scalar(
                select(User.username)
                .join(File, File.uploader_id == User.id)
                .where(File.filename.like("csv_dedupe-%"))
            )
            assert event is not None and uploader is not None
            return event.actor, uploader

    assert hub.run(recorded) == ("publisher:github:acme/csv-dedupe/release.yml", "alice")

    # the same token, elsewhere: another component, then another action
    other = problem(upload(api, token, example_dists["daily-sales-pipeline:wheel"]))
    assert other["code"] == "auth.scope"
    yank = api.post(
        "/api/v1/components/csv-dedupe/1.0.0/yank",
        json={"reason": "x"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert yank.status_code == 403 and problem(yank)["code"] == "auth.token_action"
    # ... while alice's own token may yank (the refusal is the token's, not the release's)
    ok = api.post("/api/v1/components/csv-dedupe/1.0.0/yank", json={}, headers=auth)
    assert ok.status_code == 200


def test_a_minted_token_expires_after_15_minutes(
    hub: LiveServer, api: httpx.Client, issuer: LocalIssuer, example_dists: dict[str, Path]
) -> None:
    alice = hub.user_with_token("alice")
    api.post("/api/v1/components/csv-dedupe/publishers", json=PUBLISHER,
             headers={"Authorization": f"Bearer {alice}"})  # fmt: skip
    token = api.post(MINT, json={"token": issuer.sign()}).json()["token"]

    async def age(h: Hub) -> None:  # 15 minutes pass
        async with h.sessions() as s:
            await s.execute(
                update(ApiToken)
                .where(ApiToken.origin == "oidc")
                .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
            await s.commit()

    hub.run(age)
    r = upload(api, token, example_dists["csv-dedupe:wheel"])
    assert r.status_code == 401 and problem(r)["code"] == "auth.expired"


def test_removing_the_publisher_ends_its_minted_tokens(
    hub: LiveServer, api: httpx.Client, issuer: LocalIssuer, example_dists: dict[str, Path]
) -> None:
    alice = hub.user_with_token("alice")
    auth = {"Authorization": f"Bearer {alice}"}
    added = api.post("/api/v1/components/csv-dedupe/publishers", json=PUBLISHER, headers=auth)
    publisher_id = added.json()["publishers"][0]["id"]
    token = api.post(MINT, json={"token": issuer.sign()}).json()["token"]
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    removed = api.delete(f"/api/v1/components/csv-dedupe/publishers/{publisher_id}", headers=auth)
    assert removed.status_code == 200
    r = upload(api, token, example_dists["csv-dedupe:wheel"])
    assert r.status_code == 401, r.text


def test_the_token_acts_for_an_owner_when_the_registering_user_is_gone(
    hub: LiveServer, api: httpx.Client, issuer: LocalIssuer
) -> None:
    alice = hub.user_with_token("alice")
    hub.user_with_token("bob")
    api.post("/api/v1/components/csv-dedupe/publishers", json=PUBLISHER,
             headers={"Authorization": f"Bearer {alice}"})  # fmt: skip

    async def hand_over(h: Hub) -> None:  # bob owns it too; alice's account is deleted
        async with h.sessions() as s:
            bob = await s.scalar(select(User.id).where(User.username == "bob"))
            role = await s.scalar(select(Role).where(Role.role == "owner"))
            assert bob is not None and role is not None
            s.add(Role(user_id=bob, component_id=role.component_id, role="owner"))
            alice_row = await s.scalar(select(User).where(User.username == "alice"))
            await s.delete(alice_row)
            await s.commit()

    hub.run(hand_over)
    token = api.post(MINT, json={"token": issuer.sign()}).json()["token"]
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["username"] == "bob"


def test_the_same_token_exchanged_at_once_mints_once(
    hub: LiveServer, api: httpx.Client, issuer: LocalIssuer
) -> None:
    alice = hub.user_with_token("alice")
    api.post("/api/v1/components/csv-dedupe/publishers", json=PUBLISHER,
             headers={"Authorization": f"Bearer {alice}"})  # fmt: skip
    token = issuer.sign()

    def exchange(_: int) -> int:
        with httpx.Client(base_url=hub.url, timeout=30) as client:
            r = client.post(MINT, json={"token": token})
            assert r.status_code == 200 or problem(r)["code"] == "oidc.replay", r.text
            return r.status_code

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        statuses = sorted(pool.map(exchange, range(6)))
    assert statuses == [200, 401, 401, 401, 401, 401]
