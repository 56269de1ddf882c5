"""A locked or stopped database answers writes 503 with Retry-After, never a hang or a 500;
reads go on from the page cache; when the database is back, so are writes.

Each fault is real: another connection holding SQLite's write lock, a PostgreSQL server
stopped with pg_ctl, a port that accepts connections and never answers.
"""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from pysetl_hub_server.db.engine import make_engine
from pysetl_hub_server.errors import ServiceUnavailable
from pysetl_hub_server.settings import Settings
from tests.conftest import start_hub
from tests.support import postgres
from tests.support.dists import repack
from tests.support.live import LiveServer
from tests.support.upload import problem, upload

TIMEOUT = 1  # PYSETL_HUB_DATABASE_TIMEOUT of the hubs below, to keep the waits short
# No background query between two requests: the serial poll would drop the pages a test warmed
# (it cannot tell this process's own change from another replica's), and would find a restart
# before the request that a test wants to find it.
QUIET = {"serial_poll_interval": 600.0, "search_interval": 600.0}


def unavailable(response: httpx.Response, code: str, retry_after: int) -> str:
    """The response is a 503 problem naming `code`, with the Retry-After it promises."""
    assert response.status_code == 503, (response.status_code, response.text[:500])
    body = problem(response)
    assert body["code"] == code, body
    assert response.headers["retry-after"] == str(retry_after)
    assert f"retry after {retry_after} second" in body["detail"], body["detail"]
    detail: str = body["detail"]
    return detail


def versions(example_dists: dict[str, Path], out: Path, *numbers: str) -> list[Path]:
    return [repack(example_dists["csv-dedupe:wheel"], out, version=v) for v in numbers]


def blob_files(data_dir: Path) -> set[str]:
    blobs = data_dir / "blobs"
    return {p.name for p in blobs.rglob("*") if p.is_file() and ".tmp" not in p.parts}


def test_the_default_database_timeout_is_short(tmp_path: Path) -> None:
    """A held lock must turn into a 503 within seconds, not after the 30 s it once took."""
    settings = Settings.from_env({})
    assert 0 < settings.database_timeout <= 5

    async def busy_timeout() -> int:
        url = f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}"
        engine = make_engine(url, settings.database_timeout)
        try:
            async with engine.connect() as conn:
                return int(await conn.scalar(text("PRAGMA busy_timeout")))
        finally:
            await engine.dispose()

    assert asyncio.run(busy_timeout()) == settings.database_timeout * 1000


# -- SQLite: another process holds the write lock ----------------------------------------------


@pytest.fixture(scope="module")
def sqlite_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("locked")
    server = start_hub(
        tmp, f"sqlite+aiosqlite:///{tmp / 'hub.sqlite3'}", database_timeout=float(TIMEOUT)
    )
    yield server
    server.stop()


def test_a_held_sqlite_write_lock_answers_writes_503_and_reads_go_on(
    sqlite_hub: LiveServer, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    token = sqlite_hub.user_with_token("alice")
    first, second = versions(example_dists, tmp_path, "1.0.0", "1.0.1")
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=sqlite_hub.url, timeout=60) as http:
        assert upload(http, token, first).status_code == 200
        stored = blob_files(sqlite_hub.settings.data_dir)
        database = sqlite_hub.settings.data_dir.parent / "hub.sqlite3"
        holder = sqlite3.connect(database, isolation_level=None)
        try:
            holder.execute("BEGIN EXCLUSIVE")  # what a long migration or a stuck writer holds

            started = time.monotonic()
            detail = unavailable(upload(http, token, second), "database.busy", TIMEOUT)
            assert time.monotonic() - started < TIMEOUT + 10, "a held lock hung the upload"
            assert "database is busy" in detail
            r = http.post(
                "/api/v1/components/csv-dedupe/1.0.0/yank", json={"reason": "x"}, headers=auth
            )
            unavailable(r, "database.busy", TIMEOUT)
            cli = cli_tokens_create(sqlite_hub.settings)
            assert cli.returncode == 1 and "the database is busy" in cli.stderr, cli.stderr

            # Reads go on: WAL readers do not wait for the writer.
            assert http.get("/simple/").status_code == 200
            assert first.name in http.get("/simple/csv-dedupe/").text
            # The refused upload left nothing: no blob, no spool file.
            assert blob_files(sqlite_hub.settings.data_dir) == stored
            assert not any((sqlite_hub.settings.data_dir / "spool").iterdir())
        finally:
            holder.execute("ROLLBACK")
            holder.close()

        r = upload(http, token, second)
        assert r.status_code == 200 and r.json()["created"] is True, r.text
        assert second.name in http.get("/simple/csv-dedupe/").text


def cli_tokens_create(settings: Settings) -> subprocess.CompletedProcess[str]:
    """Token creation from the CLI, on the same database."""
    server_cli = Path(sys.executable).parent / "pysetl-hub-server"
    return subprocess.run(
        [str(server_cli), "--data-dir", str(settings.data_dir), "tokens", "create", "alice"],
        env={"PYSETL_HUB_DATABASE_URL": str(settings.database_url), "PATH": "/usr/bin:/bin"}
        | {"PYSETL_HUB_DATABASE_TIMEOUT": str(TIMEOUT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# -- PostgreSQL: the server stops and starts again -----------------------------------------------


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[postgres.PostgresServer]:
    """A PostgreSQL of this module's own: stopping the shared one would fail other tests."""
    server = postgres.start_or_missing()
    yield server
    server.stop()


@pytest.mark.postgres
def test_a_stopped_postgresql_answers_503_then_writes_work_when_it_is_back(
    own_postgres: postgres.PostgresServer,
    example_dists: dict[str, Path],
    tmp_path: Path,
) -> None:
    url = own_postgres.create_database("outage")
    hub = start_hub(tmp_path, url, database_timeout=float(TIMEOUT), **QUIET)
    halted = False
    try:
        token = hub.user_with_token("alice")
        first, second = versions(example_dists, tmp_path / "dists", "1.0.0", "1.0.1")
        auth = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=hub.url, timeout=60) as http:
            assert upload(http, token, first).status_code == 200
            index = http.get("/simple/").text
            page = http.get("/simple/csv-dedupe/").text  # both now in the page cache

            own_postgres.halt()
            halted = True
            started = time.monotonic()
            detail = unavailable(upload(http, token, second), "database.unavailable", 10)
            assert time.monotonic() - started < TIMEOUT + 10
            assert "database is unavailable" in detail
            r = http.post(
                "/api/v1/components/csv-dedupe/1.0.0/yank", json={"reason": "x"}, headers=auth
            )
            unavailable(r, "database.unavailable", 10)
            # Reads the page cache holds go on; others are a 503 to retry, never a 500.
            assert http.get("/simple/").text == index
            assert http.get("/simple/csv-dedupe/").text == page
            # A name no component has is refused from memory (the known names are held);
            # a document not in memory needs the database: a 503 to retry.
            assert http.get("/simple/not-cached/").status_code == 404
            unavailable(http.get("/api/v1/components/csv-dedupe"), "database.unavailable", 10)
            unavailable(http.get("/api/v1/components/csv-dedupe"), "database.unavailable", 10)

            own_postgres.resume()
            halted = False
            # The pool replaces the connections the restart dropped: the first write works.
            r = upload(http, token, second)
            assert r.status_code == 200 and r.json()["created"] is True, r.text
            assert r.json()["version"] == "1.0.1"
            r = http.post(
                "/api/v1/components/csv-dedupe/1.0.0/yank", json={"reason": "x"}, headers=auth
            )
            assert r.status_code == 200, r.text
    finally:
        if halted:
            own_postgres.resume()
        hub.stop()


@pytest.mark.postgres
def test_a_postgresql_restart_between_requests_is_invisible(
    own_postgres: postgres.PostgresServer, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    """Every pooled connection died with the old server; the pool's pre-ping finds that out
    and connects anew, so the first request after the restart is served, not refused."""
    hub = start_hub(tmp_path, own_postgres.create_database("restart"), **QUIET)
    try:
        token = hub.user_with_token("alice")
        first, second = versions(example_dists, tmp_path / "dists", "1.0.0", "1.0.1")
        with httpx.Client(base_url=hub.url, timeout=60) as http:
            assert upload(http, token, first).status_code == 200
            time.sleep(0.5)  # the indexer's run after the commit is over
            own_postgres.halt()
            own_postgres.resume()
            r = upload(http, token, second)
            assert r.status_code == 200 and r.json()["created"] is True, r.text
    finally:
        hub.stop()


@pytest.mark.postgres
def test_a_cancelled_query_stays_cancelled(postgres_url: str) -> None:
    """A task cancelled mid-query (a background loop stopping, a client gone) ends; asyncpg
    reports it as a lost connection, and it must not come back as a 503 to retry: the
    background loops would then never stop, nor would the server."""

    async def cancel_a_query() -> None:
        engine = make_engine(postgres_url)
        try:
            async with engine.connect() as conn:
                query = asyncio.create_task(conn.execute(text("SELECT pg_sleep(30)")))
                await asyncio.sleep(0.5)
                query.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await query
        finally:
            await engine.dispose()

    asyncio.run(cancel_a_query())


def test_a_database_that_never_answers_is_a_503_after_the_timeout() -> None:
    """A PostgreSQL port that accepts and then says nothing (a hung server, a black-holed
    network) must not hold requests for asyncpg's default minute."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)  # the kernel completes the handshake; nobody ever answers
        port = listener.getsockname()[1]

        async def connect() -> None:
            engine = make_engine(f"postgresql+asyncpg://u@127.0.0.1:{port}/db", TIMEOUT)
            try:
                async with engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
            finally:
                await engine.dispose()

        started = time.monotonic()
        with pytest.raises(ServiceUnavailable) as caught:
            asyncio.run(connect())
        assert time.monotonic() - started < TIMEOUT + 5
        assert caught.value.code == "database.unavailable"
        assert caught.value.retry_after == 10
