"""The signed change feed: pages verified with the published key, paging, and what stays
private. Publishing goes through replica b; the feed is read from replica a."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import httpx
import msgspec
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select

from pysetl_hub_schemas.feed import FEED_KEY_PATH, ChangePage, FeedKey
from pysetl_hub_server.db import models
from pysetl_hub_server.hub import Hub
from tests.server.feed.conftest import Replicas
from tests.support.governance import bearer, token_for
from tests.support.upload import problem

AGENT = "feed-test-agent/7.7"


def verified(http: httpx.Client, response: httpx.Response) -> ChangePage:
    """The page, after checking its signature with the published key (as a mirror does)."""
    key = msgspec.json.decode(http.get(FEED_KEY_PATH).content, type=FeedKey)
    assert response.headers["X-Hub-Key-Id"] == key.key_id
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(key.public_key))
    public.verify(base64.b64decode(response.headers["X-Hub-Signature"]), response.content)
    return msgspec.json.decode(response.content, type=ChangePage)


@pytest.fixture(scope="module")
def history(replicas: Replicas) -> dict[str, Any]:
    """alice publishes feed-a 1.0.0 and 1.1.0 (with a user agent that must not leak), yanks
    1.0.0, adds bob as maintainer; bob accepts."""
    alice = token_for(replicas.b, "alice")
    bob = token_for(replicas.b, "bob")
    paths = [replicas.publish(replicas.b, alice, "feed-a", v) for v in ("1.0.0", "1.1.0")]
    with httpx.Client(base_url=replicas.b.url, timeout=30, headers={"User-Agent": AGENT}) as http:
        r = http.post(
            "/api/v1/components/feed-a/1.0.0/yank",
            json={"reason": "broken build"},
            headers=bearer(alice),
        )
        assert r.status_code == 200, r.text
        r = http.post(
            "/api/v1/components/feed-a/roles",
            json={"username": "bob", "role": "maintainer"},
            headers=bearer(alice),
        )
        assert r.status_code in (200, 201), r.text
        for invitation in http.get("/api/v1/invitations", headers=bearer(bob)).json()[
            "invitations"
        ]:
            assert http.post(
                f"/api/v1/invitations/{invitation['id']}/accept", headers=bearer(bob)
            ).is_success
    return {"alice": alice, "paths": paths}


def test_a_page_is_signed_and_a_tampered_body_fails(replicas: Replicas, history: Any) -> None:
    with httpx.Client(base_url=replicas.a.url, timeout=30) as http:
        r = http.get("/api/v1/changes", params={"since": 0})
        assert r.status_code == 200
        page = verified(http, r)
        assert page.changes
        key = msgspec.json.decode(http.get(FEED_KEY_PATH).content, type=FeedKey)
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(key.public_key))
        signature = base64.b64decode(r.headers["X-Hub-Signature"])
        tampered = r.content.replace(b'"release.yank"', b'"release.unyank"')
        assert tampered != r.content
        with pytest.raises(InvalidSignature):
            public.verify(signature, tampered)
        other = http.get("/api/v1/changes", params={"since": 1})
        assert other.content != r.content
        with pytest.raises(InvalidSignature):  # nor does another page's signature fit
            public.verify(base64.b64decode(other.headers["X-Hub-Signature"]), r.content)
    # Both replicas sign with the one configured key.
    with httpx.Client(base_url=replicas.b.url, timeout=30) as http:
        assert http.get(FEED_KEY_PATH).json()["key_id"] == key.key_id


def test_publishes_carry_what_a_mirror_needs(replicas: Replicas, history: Any) -> None:
    with httpx.Client(base_url=replicas.a.url, timeout=30) as http:
        page = verified(http, http.get("/api/v1/changes", params={"limit": 1000}))
        mine = [c for c in page.changes if c.component == "feed-a"]
        actions = [c.action for c in mine]
        assert actions[:3] == ["component.create", "release.create", "file.upload"]
        assert "release.yank" in actions and "role.add" in actions
        uploads = [c for c in mine if c.action == "file.upload"]
        assert [u.version for u in uploads] == ["1.0.0", "1.1.0"]
        for change, path in zip(uploads, history["paths"], strict=True):
            data = path.read_bytes()
            assert change.file is not None
            assert change.file.filename == path.name
            assert change.file.sha256 == hashlib.sha256(data).hexdigest()
            assert change.file.size == len(data)
            assert http.get(change.file.url).content == data  # the URL serves those bytes
        yank = next(c for c in mine if c.action == "release.yank")
        assert (yank.version, yank.yanked_reason) == ("1.0.0", "broken build")
        role = next(c for c in mine if c.action == "role.add")
        assert (role.username, role.role) == ("bob", "maintainer")


def test_private_fields_never_leave(replicas: Replicas, history: Any) -> None:
    async def origins(hub: Hub) -> list[tuple[str, str | None, str | None]]:
        async with hub.sessions() as session:
            rows = await session.execute(
                select(models.AuditEvent.action, models.AuditEvent.ip, models.AuditEvent.user_agent)
            )
            return [tuple(r) for r in rows]  # type: ignore[misc]

    recorded = replicas.a.run(origins)
    # The journal does hold addresses, agents and private actions: the feed must drop them.
    assert any(agent == AGENT for _, _, agent in recorded)
    assert any(ip for _, ip, _ in recorded)
    assert {"user.create", "token.create", "role.invite"} <= {a for a, _, _ in recorded}
    with httpx.Client(base_url=replicas.a.url, timeout=30) as http:
        r = http.get("/api/v1/changes", params={"limit": 1000})
    text = r.text
    for secret in (AGENT, "127.0.0.1", "@example.org", "alice", '"ip"', "user_agent", "token"):
        assert secret not in text, secret
    actions = {c["action"] for c in r.json()["changes"]}
    assert not actions & {"user.create", "token.create", "role.invite", "signin.success"}


def test_paging_since_limit_next(replicas: Replicas, history: Any) -> None:
    with httpx.Client(base_url=replicas.a.url, timeout=30) as http:
        whole = verified(http, http.get("/api/v1/changes", params={"limit": 1000}))
        assert not whole.more
        serials = [c.serial for c in whole.changes]
        assert serials == sorted(set(serials))  # strictly increasing
        walked, since, pages = [], 0, 0
        while True:
            page = verified(http, http.get("/api/v1/changes", params={"since": since, "limit": 2}))
            assert page.since == since and len(page.changes) <= 2
            assert page.next >= since  # the cursor never goes backwards
            walked += [c.serial for c in page.changes]
            since, pages = page.next, pages + 1
            if not page.more:
                break
        assert walked == serials and pages >= len(serials) // 2
        # since is exclusive; the end's next is the head, and asking past it stays there
        after = verified(http, http.get("/api/v1/changes", params={"since": serials[0]}))
        assert [c.serial for c in after.changes] == serials[1:]
        end = verified(http, http.get("/api/v1/changes", params={"since": whole.next}))
        assert end.changes == [] and end.next == whole.next and not end.more
        assert whole.next >= serials[-1]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 1001},
        {"limit": 0},
        {"since": -1},
        {"since": "x"},
        {"since": 2**63},  # past the serial column (a 64-bit integer)
        {"since": "9" * 5000},  # past Python's int-conversion limit
    ],
)
def test_bad_paging_is_a_400_problem(replicas: Replicas, params: dict[str, Any]) -> None:
    with httpx.Client(base_url=replicas.a.url, timeout=30) as http:
        r = http.get("/api/v1/changes", params=params)
    assert r.status_code == 400
    problem(r)


def test_quarantine_is_published_without_the_admins_reason(replicas: Replicas) -> None:
    owner, admin = token_for(replicas.b, "lou"), token_for(replicas.b, "root-feed", admin=True)
    replicas.publish(replicas.b, owner, "feed-quarantined", "1.0.0")
    with httpx.Client(base_url=replicas.b.url, timeout=30) as http:
        path = "/api/v1/admin/components/feed-quarantined/quarantine"
        r = http.post(path, json={"reason": "reported-xyz by a researcher"}, headers=bearer(admin))
        assert r.status_code == 200, r.text
        assert http.delete(path, headers=bearer(admin)).status_code == 200
    with httpx.Client(base_url=replicas.a.url, timeout=30) as http:
        r = http.get("/api/v1/changes", params={"limit": 1000})
        page = verified(http, r)
    mine = [c.action for c in page.changes if c.component == "feed-quarantined"]
    assert mine[-2:] == ["component.quarantine", "component.release"]
    assert "reported-xyz" not in r.text
