"""`pysetl-hub-server audit verify` catches each kind of tampering done with raw SQL, on SQLite
and on PostgreSQL, and names the first bad event; an intact chain passes with its count."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from pysetl_hub_server.audit.chain import GENESIS, Verdict, append, event_hash, verify
from pysetl_hub_server.audit.services import Actor, record
from pysetl_hub_server.cli import main
from pysetl_hub_server.db.migrate import upgrade
from pysetl_hub_server.db.models import AuditEvent, AuditHead, Base, User
from pysetl_hub_server.runtime import open_hub
from pysetl_hub_server.settings import Settings

EVENTS = 6
CLEAN = {"PYSETL_HUB_DATA_DIR": None, "PYSETL_HUB_DATABASE_URL": None}
Tamper = Callable[[AsyncSession], Awaitable[object]]


def settings(tmp_path: Path, url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=url)


async def chained(tmp_path: Path, url: str, tamper: Tamper | None = None) -> None:
    """Six events, each in its own transaction as requests write them; then `tamper`."""
    await asyncio.to_thread(upgrade, url)
    async with open_hub(settings(tmp_path, url)) as hub:
        for n in range(1, EVENTS + 1):
            async with hub.sessions() as session:
                await record(
                    session,
                    "release.yank" if n % 2 else "token.create",
                    actor=Actor(None, f"user{n}", f"192.0.2.{n}", f"agent/{n}"),
                    target=f"component:c{n}",
                    detail={"version": f"1.{n}", "why": "naïve ☃", "nested": {"n": n}},
                )
                await session.commit()
        if tamper is not None:
            async with hub.sessions() as session:
                await tamper(session)
                await session.commit()


def audit_verify(tmp_path: Path, url: str) -> tuple[int, str]:
    result = CliRunner(env=CLEAN).invoke(
        main, ["--data-dir", str(tmp_path / "data"), "--database-url", url, "audit", "verify"]
    )
    return result.exit_code, result.output


def sql(statement: str, **params: object) -> Tamper:
    async def go(session: AsyncSession) -> None:
        await session.execute(text(statement), params)

    return go


async def swap_contents(session: AsyncSession) -> None:
    """Events 2 and 3 trade everything but their ids: the order of two events reversed."""
    columns = "action, actor, target, ip, user_agent, created, detail, prev_hash, hash"
    rows = {
        row.id: row._mapping
        for row in await session.execute(
            text(f"SELECT id, {columns} FROM audit_events WHERE id IN (2, 3)")  # noqa: S608
        )
    }
    sets = ", ".join(f"{c} = :{c}" for c in columns.split(", "))
    for target, source in ((2, 3), (3, 2)):
        values = {k: v for k, v in rows[source].items() if k != "id"}
        if not isinstance(values["detail"], str):  # asyncpg decodes json; it takes text back
            values["detail"] = json.dumps(values["detail"])
        await session.execute(
            text(f"UPDATE audit_events SET {sets} WHERE id = :id"),  # noqa: S608
            {**values, "id": target},
        )


async def forge(session: AsyncSession, *, event_id: int, valid_hash: bool) -> None:
    """Insert an event after the newest, linked to it; its hash made the way the hub makes it
    (the algorithm is public) or made up."""
    last = (
        await session.execute(text("SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1"))
    ).scalar_one()
    created = datetime(2030, 1, 1, tzinfo=UTC)
    fake = AuditEvent(
        id=event_id, created=created, action="role.add", actor="mallory", target="component:c1",
        ip=None, user_agent=None, detail={},
    )  # fmt: skip
    digest = event_hash(fake, last) if valid_hash else hashlib.sha256(b"forged").hexdigest()
    await session.execute(
        text(
            "INSERT INTO audit_events (id, action, actor, target, created, detail, prev_hash, hash)"
            " VALUES (:id, 'role.add', 'mallory', 'component:c1', :created, '{}', :prev, :hash)"
        ),
        {"id": event_id, "created": _db_time(session, created), "prev": last, "hash": digest},
    )


def _db_time(session: AsyncSession, when: datetime) -> object:
    # SQLite keeps datetimes as text in SQLAlchemy's format; asyncpg takes a datetime.
    if session.bind.dialect.name == "sqlite":
        return when.strftime("%Y-%m-%d %H:%M:%S.%f")
    return when


def edit(column: str, value: str, where: str = "id = 3") -> Tamper:
    return sql(f"UPDATE audit_events SET {column} = {value} WHERE {where}")  # noqa: S608


def edit_head(assignments: str) -> Tamper:
    return sql(f"UPDATE audit_head SET {assignments}")  # noqa: S608


def delete(event_id: int) -> Tamper:
    return sql(f"DELETE FROM audit_events WHERE id = {event_id}")  # noqa: S608


FIRST_CREATED = "(SELECT created FROM audit_events WHERE id = 1)"
HEAD_EDITED = "head was edited"
TAMPERING: list[tuple[str, Tamper, int, str]] = [
    ("edited detail", edit("detail", '\'{"version": "6.6.6"}\''), 3, "edited"),
    ("edited actor", edit("actor", "'mallory'"), 3, "edited"),
    ("edited ip", edit("ip", "'203.0.113.66'"), 3, "edited"),
    ("edited user agent", edit("user_agent", "NULL"), 3, "edited"),
    ("edited target", edit("target", "'component:other'"), 3, "edited"),
    ("edited action", edit("action", "'release.unyank'"), 3, "edited"),
    ("edited created", edit("created", FIRST_CREATED), 3, "edited"),
    ("deleted in the middle", delete(3), 4, "event before it was deleted"),
    ("deleted the first", delete(1), 2, "does not start the chain"),
    ("deleted the newest", delete(6), 6, "newest events were deleted"),
    ("reordered", swap_contents, 2, "reordered"),
    ("forged, made-up hash", lambda s: forge(s, event_id=7, valid_hash=False), 7, "forged"),
    ("forged, real hash", lambda s: forge(s, event_id=7, valid_hash=True), 6, HEAD_EDITED),
    ("forged before the first", edit("id", "0", "id = 6"), 0, "before the chain"),
    ("head count edited", edit_head("count = count + 1"), 6, HEAD_EDITED),
    ("head hash edited", edit_head(f"last_hash = '{GENESIS}'"), 6, HEAD_EDITED),
    ("head moved past the first", edit_head("first_id = 2"), 1, "before the chain"),
    ("head row deleted", sql("DELETE FROM audit_head"), 1, "head row is gone"),
    ("head reset", edit_head("first_id = NULL, last_id = NULL, count = 0"), 1, HEAD_EDITED),
    ("two edits: the first named", edit("actor", "'x'", "id IN (3, 5)"), 3, "edited"),
]


def test_an_intact_chain_passes_with_its_count(tmp_path: Path, database_url: str) -> None:
    asyncio.run(chained(tmp_path, database_url))
    code, out = audit_verify(tmp_path, database_url)
    assert code == 0, out
    assert f"audit chain ok: {EVENTS} events" in out
    assert "head " in out


def test_an_empty_chain_passes(tmp_path: Path, database_url: str) -> None:
    upgrade(database_url)
    code, out = audit_verify(tmp_path, database_url)
    assert (code, out.strip()) == (0, "audit chain ok: 0 events")


@pytest.mark.parametrize(
    ("tamper", "bad", "says"), [pytest.param(t, b, s, id=i) for i, t, b, s in TAMPERING]
)
def test_tampering_is_caught_and_the_first_bad_event_named(
    tmp_path: Path, database_url: str, tamper: Tamper, bad: int, says: str
) -> None:
    asyncio.run(chained(tmp_path, database_url, tamper))
    code, out = audit_verify(tmp_path, database_url)
    assert code == 1, out
    assert f"event {bad} " in out and says in out, out


async def test_a_hash_is_the_same_whatever_zone_or_precision_it_was_written_with(
    tmp_path: Path, database_url: str
) -> None:
    """An event created at a whole second, or in another zone, hashes the same once read back
    from either backend (the hash covers UTC with microseconds)."""
    await asyncio.to_thread(upgrade, database_url)
    async with open_hub(settings(tmp_path, database_url)) as hub:
        for created in (
            datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC),
            datetime(2025, 1, 1, 14, 0, 0, 999_999, tzinfo=timezone(timedelta(hours=2))),
        ):
            async with hub.sessions() as session:
                await append(session, AuditEvent(action="x", created=created, detail={"a": 1.5}))
                await session.commit()
        async with hub.sessions() as session:
            verdict = await verify(session)
    assert verdict.ok, verdict.problem
    assert verdict.checked == 2


async def test_deleting_a_component_or_user_keeps_the_chain_whole(
    tmp_path: Path, database_url: str
) -> None:
    """The foreign keys a deletion sets to NULL are not hashed; actor and target are."""
    await asyncio.to_thread(upgrade, database_url)
    async with open_hub(settings(tmp_path, database_url)) as hub:
        async with hub.sessions() as session:
            user_id = (
                await session.execute(
                    text(
                        "INSERT INTO users (username, email, password_hash, is_active, is_admin, "
                        "totp_enabled, created) VALUES ('gone', 'g@example.org', 'x', true, "
                        "false, false, :now) RETURNING id"
                    ),
                    {"now": _db_time(session, datetime.now(UTC))},
                )
            ).scalar_one()
            await record(session, "user.create", actor=Actor(user_id, "gone"), target="user:gone")
            await session.commit()
        async with hub.sessions() as session:
            await session.execute(text("DELETE FROM users WHERE username = 'gone'"))
            await session.commit()
        async with hub.sessions() as session:
            nulled = await session.scalar(text("SELECT user_id FROM audit_events"))
            verdict = await verify(session)
    assert nulled is None
    assert verdict.ok, verdict.problem


# -- in-process: the hash's format, the head, and each verdict in full ------------------------


def test_the_hash_is_sha256_of_a_fixed_canonical_form() -> None:
    """Chains stored by one release must verify under the next: the canonical JSON (sorted
    keys, no spaces, UTF-8 as is, UTC time to the microsecond) is part of the format."""
    event = AuditEvent(
        id=42, created=datetime(2025, 1, 2, 3, 4, 5, 6, tzinfo=UTC), action="release.yank",
        actor="alice", target="component:c", ip="192.0.2.1", user_agent="ua/1",
        detail={"b": 1, "a": "naïve ☃"},
    )  # fmt: skip
    canonical = (
        '{"action":"release.yank","actor":"alice","created":"2025-01-02T03:04:05.000006+00:00",'
        '"detail":{"a":"naïve ☃","b":1},"id":42,"ip":"192.0.2.1","prev":"' + "ab" * 32 + '",'
        '"target":"component:c","user_agent":"ua/1"}'
    )
    assert event_hash(event, "ab" * 32) == hashlib.sha256(canonical.encode()).hexdigest()
    # the same instant written naive (read as UTC) or in another zone hashes the same
    same = event_hash(event, "ab" * 32)
    event.created = datetime(2025, 1, 2, 3, 4, 5, 6)
    assert event_hash(event, "ab" * 32) == same
    event.created = datetime(2025, 1, 2, 5, 4, 5, 6, tzinfo=timezone(timedelta(hours=2)))
    assert event_hash(event, "ab" * 32) == same
    # no detail is an empty one; nothing else is left out
    event.detail = None
    bare = event_hash(event, "ab" * 32)
    event.detail = {}
    assert event_hash(event, "ab" * 32) == bare


async def test_append_links_each_event_and_moves_the_head(tmp_path: Path) -> None:
    """On a database made by create_all (no head row yet) the head is made on first use."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}"
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    before = datetime.now(UTC)
    try:
        async with sessions() as session:
            first = AuditEvent(action="one", detail={})
            assert await append(session, first) == first.id
            second = AuditEvent(action="two", detail={}, created=datetime(2025, 1, 1, tzinfo=UTC))
            await append(session, second)
            await session.commit()
        async with sessions() as session:
            head = await session.get(AuditHead, 1)
            assert head is not None
            assert (head.first_id, head.last_id, head.last_hash, head.count) == (
                first.id, second.id, second.hash, 2,
            )  # fmt: skip
            assert before <= first.created <= datetime.now(UTC)
            assert first.prev_hash == GENESIS and second.prev_hash == first.hash
            assert first.hash == event_hash(first, GENESIS)
            assert await verify(session) == Verdict(2, head_hash=second.hash or "")
    finally:
        await engine.dispose()


async def delete_all(session: AsyncSession) -> None:
    await session.execute(text("DELETE FROM audit_events"))


VERDICTS: list[tuple[str, Tamper | None, Verdict]] = [
    ("edited", edit("detail", "'{}'"), Verdict(2, 3, "event 3 was edited or forged (its content "
     "does not match its hash)")),
    ("deleted in the middle", delete(3), Verdict(2, 4, "event 4 was reordered, or the event "
     "before it was deleted, edited or forged (its link does not match)")),
    ("deleted the first", delete(1), Verdict(0, 2, "event 2 does not start the chain: an event "
     "before it was deleted (its link does not match)")),
    ("deleted the newest", delete(6), Verdict(5, 6, "the chain ends at event 5 after 5 events "
     "but its head says event 6 after 6: the newest events were deleted, or the head was "
     "edited")),
    ("deleted all", delete_all, Verdict(0, 6, "the chain ends at event none after 0 events but "
     "its head says event 6 after 6: the newest events were deleted, or the head was edited")),
    ("head hash", edit_head(f"last_hash = '{GENESIS}'"), Verdict(6, 6, "the head's hash does "
     "not match event 6 (the newest): the head was edited")),
    ("forged before", edit("id", "0", "id = 6"), Verdict(0, 0, "event 0 carries a hash but lies "
     "before the chain's first event 1: it was forged, or the head was edited")),
    ("head row gone", sql("DELETE FROM audit_head"), Verdict(0, 1, "event 1 is chained but the "
     "chain's head row is gone: the head was edited")),
    ("head reset", edit_head("first_id = NULL, last_id = NULL, count = 0"), Verdict(0, 1,
     "event 1 is chained but the chain's head was reset: the head was edited")),
]  # fmt: skip


@pytest.mark.parametrize(("tamper", "verdict"), [pytest.param(t, v, id=i) for i, t, v in VERDICTS])
async def test_each_verdict_in_full(tmp_path: Path, tamper: Tamper, verdict: Verdict) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}"
    await chained(tmp_path, url, tamper)
    async with open_hub(settings(tmp_path, url)) as hub, hub.sessions() as session:
        found = await verify(session)
    assert found == verdict
    assert not found.ok


async def test_an_intact_verdict_carries_the_head_hash(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}"
    await chained(tmp_path, url)
    async with open_hub(settings(tmp_path, url)) as hub, hub.sessions() as session:
        found = await verify(session)
        newest = await session.scalar(text("SELECT hash FROM audit_events WHERE id = 6"))
    assert found == Verdict(EVENTS, head_hash=newest) and found.ok
    assert not Verdict(0, None, "a problem").ok and not Verdict(0, 3).ok


@pytest.fixture
def tokyo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The host's local zone is not UTC (the hub may run anywhere)."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_the_hash_does_not_depend_on_the_host_s_zone(tokyo: None) -> None:
    event = AuditEvent(id=1, created=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC), action="x",
                       actor="a", target="t", ip=None, user_agent=None, detail={})  # fmt: skip
    canonical = (
        '{"action":"x","actor":"a","created":"2025-01-02T03:04:05.000000+00:00","detail":{},'
        '"id":1,"ip":null,"prev":"' + GENESIS + '","target":"t","user_agent":null}'
    )
    expected = hashlib.sha256(canonical.encode()).hexdigest()
    assert event_hash(event, GENESIS) == expected
    event.created = datetime(2025, 1, 2, 3, 4, 5)  # naive: read as UTC, not as Tokyo time
    assert event_hash(event, GENESIS) == expected


async def test_append_keeps_the_event_s_own_time_and_a_session_s_later_appends_link_right(
    tmp_path: Path,
) -> None:
    """A session kept open across commits (expire_on_commit is off) links its next event after
    the newest head, not after the head it saw before another writer moved it."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}"
    await asyncio.to_thread(upgrade, url)
    async with open_hub(settings(tmp_path, url)) as hub:
        async with hub.sessions() as first:
            one = AuditEvent(action="one", detail={}, created=datetime(2025, 1, 1, tzinfo=UTC))
            await append(first, one)
            await first.commit()
            assert one.created == datetime(2025, 1, 1, tzinfo=UTC)
            async with hub.sessions() as other:
                two = AuditEvent(action="two", detail={})
                await append(other, two)
                await other.commit()
            three = AuditEvent(action="three", detail={})
            await append(first, three)
            await first.commit()
        assert three.prev_hash == two.hash
        async with hub.sessions() as session:
            assert (await verify(session)).ok


async def test_events_are_walked_in_id_order_wherever_they_lie_on_disk(
    tmp_path: Path, database_url: str
) -> None:
    """Deleting a user rewrites its events' rows (user_id goes NULL), which PostgreSQL writes
    anew after the others: the walk is by id, so the chain still verifies."""
    await asyncio.to_thread(upgrade, database_url)
    async with open_hub(settings(tmp_path, database_url)) as hub:
        async with hub.sessions() as session:
            user = User(username="gone", email="g@example.org", password_hash="x")
            session.add(user)
            await session.flush()
            await record(session, "user.create", actor=Actor(user.id, "gone"), target="user:gone")
            for n in range(3):
                await record(session, "token.create", actor=Actor(None, f"other{n}"))
            await session.commit()
        async with hub.sessions() as session:
            await session.execute(text("DELETE FROM users WHERE username = 'gone'"))
            await session.commit()
        async with hub.sessions() as session:
            verdict = await verify(session)
    assert verdict.ok, verdict.problem
    assert verdict.checked == 4
