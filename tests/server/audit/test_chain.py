"""`pysetl-hub-server audit verify` catches each kind of tampering done with raw SQL, on SQLite
and on PostgreSQL, and names the first bad event; an intact chain passes with its count."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_server.audit.chain import GENESIS, append, event_hash, verify
from pysetl_hub_server.audit.services import Actor, record
from pysetl_hub_server.cli import main
from pysetl_hub_server.db.migrate import upgrade
from pysetl_hub_server.db.models import AuditEvent
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
