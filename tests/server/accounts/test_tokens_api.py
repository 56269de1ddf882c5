"""The tokens API over HTTP: create (secret once), list, revoke, the narrower rule, last use."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from sqlalchemy import select, update

from pysetl_hub_schemas import Me, TokenCreate, TokenCreated, TokenList
from pysetl_hub_server.accounts import tokens_api
from pysetl_hub_server.accounts.permissions import Identity
from pysetl_hub_server.accounts.services import authenticate, create_token, create_user
from pysetl_hub_server.accounts.tokens_api import check_narrower
from pysetl_hub_server.db.models import ApiToken, AuditEvent, Component
from pysetl_hub_server.errors import BadRequest, Forbidden, NotFound
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


# -- in-process: the narrower rule and the services, without a server --------------------------

IN_10_DAYS = datetime(2031, 1, 11, 12, 30, tzinfo=UTC)


async def setup_alice(hub: Hub) -> tuple[int, dict[str, int]]:
    """alice, and components A, B and C (display names); her id and the components' ids."""
    async with hub.sessions() as s:
        alice = await create_user(s, "alice", "alice@example.org", "password123")
        rows = [Component(name=n.lower(), display_name=n, ultra_name=n.lower()) for n in "ABC"]
        s.add_all(rows)
        await s.commit()
        return alice.id, {r.display_name: r.id for r in rows}


def token_who(user_id: int, ids: set[int] | None, actions: set[str], **kw: Any) -> Identity:
    comps = frozenset(ids) if ids is not None else None
    kw.setdefault("ip", "192.0.2.1")
    return Identity(user_id, "alice", "0123456789abcdef", comps, frozenset(actions), **kw)


async def narrower(
    hub: Hub, who: Identity, ids: list[int] | None, actions: list[str],
    expires: datetime | None, verb: str = "create",
) -> Forbidden | None:  # fmt: skip
    async with hub.sessions() as s:
        try:
            await check_narrower(s, who, ids, actions, expires, verb=verb)
        except Forbidden as exc:
            refused = exc
        else:
            return None
    assert refused.code == "token.wider"
    return refused


HOW = (
    ". Ask for less, or sign in with your password (`pysetl-hub login --password`) to manage "
    "any token of yours"
)


async def test_each_way_a_token_can_be_wider_is_named(offline_hub: Hub) -> None:
    alice, c = await setup_alice(offline_hub)
    who = token_who(alice, {c["A"], c["B"]}, {"upload", "manage"}, expires=IN_10_DAYS)
    everything = await narrower(offline_hub, who, None, ["yank", "upload", "manage"], None)
    assert everything is not None and everything.extra == {
        "wider": ["actions", "components", "expiry"]
    }
    assert everything.detail == (
        "a token may only create a narrower token, and this one is wider in components: it "
        "would act on every component, this token only on 'A', 'B'; actions: yank is not among "
        "this token's actions (upload, manage); expiry: it would expire never, after this token "
        f"(2031-01-11 12:30 UTC){HOW}"
    )
    later = IN_10_DAYS + timedelta(minutes=1)
    outside = await narrower(
        offline_hub, who, [c["A"], c["B"], c["C"]], ["upload"], later, verb="revoke"
    )
    assert outside is not None and outside.extra == {"wider": ["components", "expiry"]}
    assert outside.detail == (
        "a token may only revoke a narrower token, and this one is wider in components: 'C' is "
        "outside this token's scope; expiry: it would expire 2031-01-11 12:31 UTC, after this "
        f"token (2031-01-11 12:30 UTC){HOW}"
    )
    two_actions = await narrower(offline_hub, who, [c["A"]], ["yank", "delete"], IN_10_DAYS)
    assert two_actions is not None
    assert "actions: yank, delete is not among this token's actions (upload, manage)." in (
        two_actions.detail
    )


async def test_a_token_no_wider_than_itself_passes(offline_hub: Hub) -> None:
    alice, c = await setup_alice(offline_hub)
    who = token_who(alice, {c["A"], c["B"]}, {"upload", "manage"}, expires=IN_10_DAYS)
    assert (
        await narrower(offline_hub, who, [c["A"], c["B"]], ["upload", "manage"], IN_10_DAYS) is None
    )
    assert await narrower(offline_hub, who, [c["B"]], ["upload"], IN_10_DAYS - timedelta(1)) is None
    # user-wide and never expiring: any components, any expiry
    wide = token_who(alice, None, {"upload"})
    assert await narrower(offline_hub, wide, None, ["upload"], None) is None
    assert await narrower(offline_hub, wide, [c["C"]], ["upload"], IN_10_DAYS) is None
    assert await narrower(offline_hub, wide, None, ["yank"], None) is not None  # actions count
    # a password sign-in may make any token of its user
    signed_in = token_who(alice, None, set(), via="session", expires=IN_10_DAYS)
    assert await narrower(offline_hub, signed_in, None, ["yank"], None) is None


@pytest.mark.parametrize("verb", ["create", "revoke"])
async def test_a_trusted_publisher_s_token_manages_no_tokens(offline_hub: Hub, verb: str) -> None:
    alice, c = await setup_alice(offline_hub)
    minted = token_who(alice, {c["A"]}, {"upload"}, via="oidc", expires=IN_10_DAYS)
    refused = await narrower(offline_hub, minted, [c["A"]], ["upload"], IN_10_DAYS, verb)
    assert refused is not None and refused.extra == {"wider": ["publisher"]}
    assert refused.detail == (
        f"a token minted for a trusted publisher cannot {verb} tokens: it is for uploads from "
        "its workflow only"
    )


async def test_create_and_its_expiry(offline_hub: Hub) -> None:
    alice, _ = await setup_alice(offline_hub)
    soon = datetime.now(UTC) + timedelta(days=10)
    short = token_who(alice, None, {"upload", "yank", "manage"}, expires=soon)
    # no expiry asked: the hub's default (90 days), cut to the creating token's own
    made = await tokens_api.create(offline_hub, short, TokenCreate(name="cut", components=["a"]))
    assert made.token.startswith(f"pshub_{made.info.id}_")
    assert (made.info.name, made.info.components, made.info.actions) == (
        "cut", ["A"], ["manage", "upload", "yank"],
    )  # fmt: skip
    assert made.info.expires == soon
    # a session's own 12 hours do not cut it: the default is the default
    session = token_who(alice, None, set(), via="session", expires=soon - timedelta(days=9))
    full = await tokens_api.create(offline_hub, session, TokenCreate(name="full", actions=["yank"]))
    assert in_days(full.info.expires, 90) and full.info.actions == ["yank"]
    assert full.info.components is None
    days = await tokens_api.create(offline_hub, session, TokenCreate(name="three", expires_days=3))
    assert in_days(days.info.expires, 3)
    never = await tokens_api.create(
        offline_hub, session, TokenCreate(name="never", never_expires=True)
    )
    assert never.info.expires is None
    with pytest.raises(BadRequest) as both:
        await tokens_api.create(
            offline_hub, session, TokenCreate(name="x", never_expires=True, expires_days=3)
        )
    assert (both.value.code, both.value.detail) == (
        "token.expiry", "choose expires_days or never_expires, not both",
    )  # fmt: skip
    # what the audit trail says, with the creator's own name and address
    async with offline_hub.sessions() as s:
        events = await s.scalars(select(AuditEvent).where(AuditEvent.action == "token.create"))
        assert [(e.actor, e.ip) for e in events] == [("alice", "192.0.2.1")] * 4
    assert (await tokens_api.list_tokens(offline_hub, session)).tokens[0].name == "never"


async def test_tokens_are_listed_newest_first_and_revoked_by_their_owner_only(
    offline_hub: Hub,
) -> None:
    alice, _ = await setup_alice(offline_hub)
    async with offline_hub.sessions() as s:
        await create_user(s, "bob", "bob@example.org", "password123")
        bobs = await create_token(s, "bob", name="bobs")
        for name in ("first", "second", "third"):
            await create_token(s, "alice", name=name)
        await s.commit()
    session = token_who(alice, None, set(), via="session")
    listed = (await tokens_api.list_tokens(offline_hub, session)).tokens
    assert [t.name for t in listed] == ["third", "second", "first"]
    bob_id = bobs.split("_")[1]
    with pytest.raises(NotFound) as missing:
        await tokens_api.revoke(offline_hub, session, bob_id)
    assert missing.value.code == "token.missing"
    assert missing.value.detail == (
        f"you have no token with id {bob_id!r}: `pysetl-hub tokens list` shows yours"
    )
    second = listed[1].id
    first = await tokens_api.revoke(
        offline_hub, session, second.upper()
    )  # ids are not case-sensitive
    assert first.id == second and first.revoked is not None
    again = await tokens_api.revoke(
        offline_hub, session, second
    )  # harmless, and not a second event
    assert again.revoked == first.revoked
    async with offline_hub.sessions() as s:
        events = await s.scalars(select(AuditEvent).where(AuditEvent.action == "token.revoke"))
        assert [(e.detail["token_id"], e.actor) for e in events] == [(second, "alice")]


async def test_a_token_revokes_itself_and_narrower_ones_not_wider(offline_hub: Hub) -> None:
    await setup_alice(offline_hub)
    async with offline_hub.sessions() as s:
        wide = await create_token(s, "alice", never_expires=True)
        scoped = await create_token(s, "alice", components=["a"], actions=["upload"])
        narrowest = await create_token(s, "alice", components=["a"], actions=["upload"],
                                       expires_days=1)  # fmt: skip
        await s.commit()
        who = await authenticate(s, f"Bearer {scoped}", ip="192.0.2.1")
    with pytest.raises(Forbidden) as wider:
        await tokens_api.revoke(offline_hub, who, wide.split("_")[1])
    assert wider.value.extra == {"wider": ["actions", "components", "expiry"]}
    assert (await tokens_api.revoke(offline_hub, who, narrowest.split("_")[1])).revoked is not None
    assert (await tokens_api.revoke(offline_hub, who, scoped.split("_")[1])).revoked is not None


async def test_a_scoped_token_creates_within_its_scope_only(offline_hub: Hub) -> None:
    alice, c = await setup_alice(offline_hub)
    scoped = token_who(alice, {c["A"]}, {"upload"}, expires=datetime.now(UTC) + timedelta(1))
    mine = await tokens_api.create(
        offline_hub, scoped,
        TokenCreate(name="ci", components=["a"], actions=["upload"], description="for ci"),
    )  # fmt: skip
    assert (mine.info.components, mine.info.description) == (["A"], "for ci")
    with pytest.raises(Forbidden) as wider:
        await tokens_api.create(
            offline_hub,
            scoped,
            TokenCreate(name="x", components=["a", "c", "b"], actions=["upload"]),
        )
    assert wider.value.detail.startswith(
        "a token may only create a narrower token, and this one is wider in components: "
        "'B', 'C' is outside this token's scope."
    )


async def test_revoking_a_wider_token_is_refused_in_its_own_words(offline_hub: Hub) -> None:
    await setup_alice(offline_hub)
    async with offline_hub.sessions() as s:
        wide = await create_token(s, "alice", never_expires=True)
        scoped = await create_token(s, "alice", components=["a"], actions=["upload"])
        await s.commit()
        who = await authenticate(s, f"Bearer {scoped}")
    with pytest.raises(Forbidden) as wider:
        await tokens_api.revoke(offline_hub, who, wide.split("_")[1])
    assert wider.value.detail.startswith("a token may only revoke a narrower token, and this one")


async def test_newest_first_is_by_creation_time_then_id(offline_hub: Hub) -> None:
    alice, _ = await setup_alice(offline_hub)
    async with offline_hub.sessions() as s:
        for name in ("a", "b", "c", "d"):
            await create_token(s, "alice", name=name)
        await s.flush()
        # "d" was created earliest (a clock, or a sequence, may order them so); "b" and "c"
        # at the same moment
        when = datetime(2030, 1, 1, tzinfo=UTC)
        times = {
            "d": when - timedelta(days=1),
            "b": when,
            "c": when,
            "a": when - timedelta(hours=1),
        }
        for name, created in times.items():
            await s.execute(update(ApiToken).where(ApiToken.name == name).values(created=created))
        await s.commit()
    session = token_who(alice, None, set(), via="session")
    listed = (await tokens_api.list_tokens(offline_hub, session)).tokens
    assert [t.name for t in listed] == ["c", "b", "a", "d"]
