"""Everything an upload could leave behind, captured before and compared after.

A refused upload must leave no trace (DESIGN.md, Invariants: "a failure at any step leaves no
row, no visible file, and no search entry"). `snapshot(live)` records:

- every row of every table: the tables of the SQLAlchemy models (so a new model is covered
  without touching this file) and whatever else the migrations created (the FTS5 table and
  its shadow tables on SQLite, alembic_version);
- the registry serial, as the simple index computes it;
- the blob files of the store, and the files in every temporary directory the server writes
  to (the upload spool, the blob store's `.tmp`) and anywhere else in the data directory.

`assert_no_residue(before, after)` fails with a list of what changed. Rows are compared whole
(not only counted), so an UPDATE that a rollback should have undone shows too.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, func, inspect, make_url, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from pysetl_hub_server.db.models import AuditEvent, Base, SearchOutbox, WebhookCursor
from pysetl_hub_server.storage.blobs import LocalBlobStore
from tests.support.live import LiveServer

# Columns a refused request may change without that being residue: the "last used" time and
# address of the token that authenticated it (written before the upload is judged).
VOLATILE = {("api_tokens", "last_used"), ("api_tokens", "last_used_ip")}
SETTLE_SECONDS = 10.0  # the search outbox of an earlier, accepted upload drains in milliseconds
SHOWN = 3  # rows shown per table in a failure message
# The registry serial, as the simple index computes it (simple.services.current_serial).
SERIAL = select(func.coalesce(func.max(AuditEvent.id), 0))


@dataclass(frozen=True, slots=True)
class Snapshot:
    rows: dict[str, Counter[str]]  # table -> its rows, each as the repr of a tuple
    serial: int
    blobs: frozenset[str]  # paths under the blob store's root, its temporary directory aside
    temp: dict[str, frozenset[str]]  # temporary directory -> the files in it
    other: frozenset[str]  # any other file in the data directory, the database aside


def snapshot(live: LiveServer) -> Snapshot:
    """What the server holds now. Waits first (up to SETTLE_SECONDS) for the search outbox to
    drain and the webhook dispatcher to follow the journal, so that the work done after an
    earlier accepted upload is not taken for residue."""
    rows, serial = _database(live)
    blobs = live.hub.blobs
    if not isinstance(blobs, LocalBlobStore):
        raise NotImplementedError("residue checks list the files of a local blob store only")
    temp_dirs = {"spool": live.hub.spool_dir}
    store_temp = blobs.temp_dir()
    if store_temp is not None:
        temp_dirs["blob store .tmp"] = store_temp
    temp = {label: _files(path) for label, path in temp_dirs.items()}
    stored = _files(blobs.root, skip=tuple(temp_dirs.values()))
    other = _files(
        live.settings.data_dir,
        skip=(blobs.root, *temp_dirs.values()),
        database=_database_path(live),
    )
    return Snapshot(rows, serial, stored, temp, other)


def residue(before: Snapshot, after: Snapshot) -> list[str]:
    """One line per thing that differs between the snapshots (empty: nothing was left)."""
    found: list[str] = []
    for table in sorted(before.rows.keys() | after.rows.keys()):
        old, new = before.rows.get(table, Counter()), after.rows.get(table, Counter())
        if old == new:
            continue
        added, removed = list((new - old).elements()), list((old - new).elements())
        line = f"table {table}: {old.total()} -> {new.total()} rows"
        if added:
            line += f"; added {_some(added)}"
        if removed:
            line += f"; removed or changed {_some(removed)}"
        found.append(line)
    if before.serial != after.serial:
        found.append(f"serial: {before.serial} -> {after.serial}")
    for label, old_files, new_files in [
        ("blob", before.blobs, after.blobs),
        *((f"{k} file", before.temp.get(k, frozenset()), v) for k, v in after.temp.items()),
        ("data directory file", before.other, after.other),
    ]:
        if new_files - old_files:
            found.append(f"{label}s added: {_some(sorted(new_files - old_files))}")
        if old_files - new_files:
            found.append(f"{label}s removed: {_some(sorted(old_files - new_files))}")
    return found


def assert_no_residue(before: Snapshot, after: Snapshot) -> None:
    found = residue(before, after)
    assert not found, "the refused upload left residue:\n  " + "\n  ".join(found)


def _database(live: LiveServer) -> tuple[dict[str, Counter[str]], int]:
    url = live.settings.effective_database_url
    if make_url(url).get_backend_name() == "sqlite":
        with _sync_engine(url).connect() as conn:
            return _read(conn)

    async def read() -> tuple[dict[str, Counter[str]], int]:
        async with _async_engine(url).connect() as conn:
            return await conn.run_sync(_read)

    return asyncio.run(read())


# One engine per database for the whole session, so SQLAlchemy compiles each statement once.
@functools.cache
def _sync_engine(url: str) -> Engine:
    """SQLite through the standard library's driver: no thread hop per query (aiosqlite's)."""
    return create_engine(make_url(url).set(drivername="sqlite"), poolclass=NullPool)


@functools.cache
def _async_engine(url: str) -> AsyncEngine:
    """No pool: each snapshot runs in its own event loop, and connections are bound to one."""
    return create_async_engine(url, poolclass=NullPool)


def _read(conn: Connection) -> tuple[dict[str, Counter[str]], int]:
    deadline = time.monotonic() + SETTLE_SECONDS
    while _unsettled(conn) and time.monotonic() < deadline:
        conn.rollback()  # a fresh view of the database on the next read
        time.sleep(0.02)
    conn.rollback()
    tables = set(inspect(conn).get_table_names())
    missing = set(Base.metadata.tables) - tables
    assert not missing, f"the database lacks the model tables {sorted(missing)}"
    rows = {table: _rows(conn, table) for table in sorted(tables)}
    serial = int(conn.scalar(SERIAL) or 0)
    conn.rollback()
    return rows, serial


def _unsettled(conn: Connection) -> bool:
    """Search updates still queued, or changes the webhook dispatcher has not followed yet
    (it moves its cursor to the newest serial right after an accepted change)."""
    if conn.scalar(select(func.count()).select_from(SearchOutbox)):
        return True
    cursor = conn.scalar(select(WebhookCursor.last_serial).where(WebhookCursor.id == 1))
    return cursor is not None and cursor < int(conn.scalar(SERIAL) or 0)


def _rows(conn: Connection, table: str) -> Counter[str]:
    quoted = conn.dialect.identifier_preparer.quote(table)
    result = conn.execute(text(f"SELECT * FROM {quoted}"))  # noqa: S608 - a table name
    keep = [i for i, column in enumerate(result.keys()) if (table, column) not in VOLATILE]
    return Counter(repr(tuple(row[i] for i in keep)) for row in result)


def _files(
    root: Path, *, skip: tuple[Path, ...] = (), database: Path | None = None
) -> frozenset[str]:
    if not root.is_dir():
        return frozenset()
    found = set()
    for path in root.rglob("*"):
        if path.is_dir() or any(path.is_relative_to(s) for s in skip):
            continue
        if database is not None and path.name.startswith(database.name):
            continue  # the SQLite file and its -wal/-shm companions change on every read
        found.add(path.relative_to(root).as_posix())
    return frozenset(found)


def _database_path(live: LiveServer) -> Path | None:
    url = live.settings.effective_database_url
    return Path(url.split(":///", 1)[1]) if url.startswith("sqlite") else None


def _some(items: list[str]) -> str:
    shown = ", ".join(item if len(item) < 300 else item[:300] + "..." for item in items[:SHOWN])
    return shown + (f" (and {len(items) - SHOWN} more)" if len(items) > SHOWN else "")
