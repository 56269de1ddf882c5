"""The database half: a consistent dump, the emptiness rule for a restore target, and the load.

SQLite is copied with the online backup API (one read transaction: safe while the hub writes).
PostgreSQL is dumped by the real `pg_dump` (custom format) inside an exported snapshot, so the
rows the manifest lists are exactly the rows in the dump; `pg_restore` loads it, sequences
included. Connection details reach the PostgreSQL tools through PG* variables, so a password
never appears on a command line.
"""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from pysetl_hub_server.backup.layout import BackupError

FILES = "SELECT filename, sha256, size, metadata_sha256 FROM files ORDER BY filename"
SERIAL = "SELECT coalesce(max(id), 0) FROM audit_events"
REVISION = "SELECT version_num FROM alembic_version"
CONNECT_TIMEOUT = 10
# Files beside an SQLite database that SQLite would replay into whatever file takes its name.
SIDE_FILES = ("-wal", "-journal")
USER_TABLES = (
    "SELECT table_schema || '.' || table_name FROM information_schema.tables "
    "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1 LIMIT 5"
)


@dataclass(frozen=True, slots=True)
class FileRow:
    filename: str
    sha256: str
    size: int
    metadata_sha256: str | None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What one consistent read of the database saw."""

    revision: str
    serial: int
    files: list[FileRow]


def _engine(url: str) -> AsyncEngine:
    # A host that drops packets fails in seconds, not after asyncpg's default minute.
    return create_async_engine(url, connect_args={"timeout": CONNECT_TIMEOUT})


def dialect_of(url: str) -> str:
    name = make_url(url).get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise BackupError(f"database URL of dialect {name!r}: backups know sqlite and postgresql")
    return name


def shown(url: str) -> str:
    """The URL with its password masked, for messages."""
    return make_url(url).render_as_string(hide_password=True)


# -- reading -----------------------------------------------------------------------------


def _rows(files: Sequence[Sequence[Any]], serial: Any, revision: Any) -> Snapshot:
    return Snapshot(
        str(revision),
        int(serial or 0),
        [FileRow(str(f), str(s), int(n), str(m) if m else None) for f, s, n, m in files],
    )


def _sqlite_read(path: Path) -> Snapshot:
    con = sqlite3.connect(_uri(path, "ro"), uri=True)
    try:
        revision = con.execute(REVISION).fetchone()
        if revision is None:
            raise BackupError(f"{path} has no Alembic revision: it is not a hub database")
        return _rows(con.execute(FILES).fetchall(), con.execute(SERIAL).fetchone()[0], revision[0])
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a readable hub database ({exc})") from exc
    finally:
        con.close()


async def _pg_read(conn: AsyncConnection) -> Snapshot:
    revision = (await conn.execute(text(REVISION))).scalar_one_or_none()
    if revision is None:
        raise BackupError("the database has no Alembic revision: it is not a hub database")
    files = (await conn.execute(text(FILES))).all()
    return _rows(files, (await conn.execute(text(SERIAL))).scalar_one(), revision)


async def read(url: str) -> Snapshot:
    """The revision, serial and file rows of a database (a restored one, to reconcile)."""
    try:
        if dialect_of(url) == "sqlite":
            return await asyncio.to_thread(_sqlite_read, _sqlite_path(url))
        engine = _engine(url)
        try:
            async with engine.connect() as conn:
                return await _pg_read(conn)
        finally:
            await engine.dispose()
    except BackupError:
        raise
    except Exception as exc:  # unreachable, refused, or not a hub database: one line, no trace
        said = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise BackupError(f"cannot read the database at {shown(url)}: {said}") from exc


# -- dump ----------------------------------------------------------------------------------


async def dump(url: str, target: Path, bindir: Path | None) -> Snapshot:
    """Write a consistent dump of the database at `url` to `target`; what it holds."""
    if dialect_of(url) == "sqlite":
        return await asyncio.to_thread(_sqlite_dump, _sqlite_path(url), target)
    return await _pg_dump(url, target, bindir)


def _uri(path: Path, mode: str) -> str:
    return f"{path.resolve().as_uri()}?mode={mode}"


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError(f"{url}: an in-memory SQLite database has nothing to back up")
    return Path(database)


def _sqlite_dump(source: Path, target: Path) -> Snapshot:
    if not source.is_file():
        raise BackupError(
            f"the SQLite database {source} does not exist: check --data-dir / --database-url "
            "(a backup never creates an empty database)"
        )
    try:
        # mode=rw: opening must not create a missing file. One backup step is one read
        # transaction, so the copy is the database at one instant even while the hub writes.
        src = sqlite3.connect(_uri(source, "rw"), uri=True, timeout=30)
        try:
            dst = sqlite3.connect(target)
            try:
                src.backup(dst)
                # One self-contained file, whatever journal mode the live database uses.
                dst.execute("PRAGMA journal_mode=DELETE")
                if dst.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                    raise BackupError(f"the copy of {source} fails SQLite's quick_check")
            finally:
                dst.close()
        finally:
            src.close()
    except sqlite3.Error as exc:
        raise BackupError(f"cannot back up the SQLite database {source}: {exc}") from exc
    return _sqlite_read(target)


async def _pg_dump(url: str, target: Path, bindir: Path | None) -> Snapshot:
    tool = pg_tool("pg_dump", bindir)
    engine = _engine(url)
    try:
        async with engine.connect() as plain:
            conn = await plain.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
            async with conn.begin():
                # The first statement fixes the snapshot; pg_dump joins it, and so do the reads.
                snap = (await conn.execute(text("SELECT pg_export_snapshot()"))).scalar_one()
                found = await _pg_read(conn)
                await _tool(
                    tool,
                    ["--format=custom", "--no-password", f"--snapshot={snap}", f"--file={target}"],
                    url,
                )
                return found
    except BackupError:
        raise
    except Exception as exc:
        raise BackupError(f"cannot back up the database at {shown(url)}: {exc}") from exc
    finally:
        await engine.dispose()


# -- restore -------------------------------------------------------------------------------


async def ensure_empty(url: str) -> None:
    """A restore target must hold no tables: a restore never merges into live data."""
    if dialect_of(url) == "sqlite":
        path = _sqlite_path(url)
        tables = await asyncio.to_thread(_sqlite_tables, path)
        if tables:
            raise BackupError(
                f"the target database {path} already holds tables ({', '.join(tables)}): a "
                "restore only goes into a fresh database; point --data-dir/--database-url at an "
                "empty place, or move this database away first"
            )
        return
    engine = _engine(url)
    try:
        async with engine.connect() as conn:
            tables = list((await conn.execute(text(USER_TABLES))).scalars())
    except Exception as exc:
        raise BackupError(
            f"cannot reach the target database {shown(url)}: {exc}; create it empty first "
            "(CREATE DATABASE ... OWNER <the hub's user>)"
        ) from exc
    finally:
        await engine.dispose()
    if tables:
        raise BackupError(
            f"the target database {shown(url)} already holds tables ({', '.join(tables)}): a "
            "restore only goes into a fresh, empty database; create a new one and point "
            "--database-url at it"
        )


def _sqlite_tables(path: Path) -> list[str]:
    """What makes the target not empty: its tables, or a journal SQLite would replay."""
    found = [
        side.name
        for side in (path.with_name(path.name + suffix) for suffix in SIDE_FILES)
        if side.exists() and side.stat().st_size > 0
    ]
    if not path.exists() or path.stat().st_size == 0:
        return found
    try:
        con = sqlite3.connect(_uri(path, "ro"), uri=True)
        try:
            rows = con.execute("SELECT name FROM sqlite_master WHERE type='table' LIMIT 5")
            return [str(r[0]) for r in rows] + found
        finally:
            con.close()
    except sqlite3.DatabaseError:
        return [f"{path.name} (not an SQLite file)"]


async def load(url: str, dump_file: Path, bindir: Path | None) -> None:
    """Load a dump into the (empty) database at `url`."""
    if dialect_of(url) == "sqlite":
        await asyncio.to_thread(_sqlite_load, dump_file, _sqlite_path(url))
        return
    database = make_url(url).database or ""
    await _tool(
        pg_tool("pg_restore", bindir),
        [
            "--no-password",
            "--exit-on-error",
            "--single-transaction",
            # The restoring user owns what it creates; grants and comments stay the operator's.
            "--no-owner",
            "--no-privileges",
            "--no-comments",
            f"--dbname={database}",
            str(dump_file),
        ],
        url,
    )


def _sqlite_load(dump_file: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.restoring")
    shutil.copyfile(dump_file, partial)
    with partial.open("rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(partial, target)


# -- the PostgreSQL tools --------------------------------------------------------------------


def pg_tool(name: str, bindir: Path | None) -> Path:
    """`--pg-bindir`'s tool, else the newest /usr/lib/postgresql/N/bin one (pg_dump must be at
    least the server's major version; Debian's PATH wrapper may pick an older one), else PATH."""
    if bindir is not None:
        if (bindir / name).is_file():
            return bindir / name
        raise BackupError(f"--pg-bindir {bindir} has no {name}: name the PostgreSQL bin directory")
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_major)
    if found:
        return Path(found[-1])
    on_path = shutil.which(name)
    if on_path:
        return Path(on_path)
    raise BackupError(
        f"{name} is not installed: install the PostgreSQL client tools (postgresql-client, the "
        "server's major version or newer), or pass --pg-bindir"
    )


def _major(path: str) -> int:
    part = Path(path).parts[-3]
    return int(part) if part.isdigit() else 0


def tool_env(url: URL) -> dict[str, str]:
    """The connection as libpq variables (the password too: never on a command line)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    pairs = {
        "PGHOST": url.host or url.query.get("host"),
        "PGPORT": str(url.port) if url.port else None,
        "PGUSER": url.username,
        "PGPASSWORD": url.password,
        "PGDATABASE": url.database,
        "PGSSLMODE": url.query.get("sslmode") or url.query.get("ssl"),
    }
    env.update({k: str(v) for k, v in pairs.items() if v})
    env.setdefault("PGCONNECT_TIMEOUT", str(CONNECT_TIMEOUT))
    return env


async def _tool(tool: Path, args: list[str], url: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        str(tool),
        *args,
        env=tool_env(make_url(url)),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    if proc.returncode != 0:
        said = (err or out).decode(errors="replace").strip().splitlines()[-5:]
        raise BackupError(
            f"{tool.name} failed (exit {proc.returncode}) on {shown(url)}: " + " | ".join(said)
        )
