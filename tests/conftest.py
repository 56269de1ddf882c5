"""Shared fixtures: real distributions, a throwaway PostgreSQL, live servers on loopback."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pysetl_hub_server.db.migrate import upgrade
from pysetl_hub_server.settings import Settings, UploadLimits
from tests.support import postgres, redis
from tests.support.dists import build_example
from tests.support.live import LiveServer, start_live
from tests.support.matrix import CACHE as MATRIX
from tests.support.sigstore_instance import SigstoreInstance

_STARTED = pytest.StashKey[float]()


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_STARTED] = time.time()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The build-backend matrix's table, when tests/interop/test_backend_matrix.py wrote it in
    this run (in this process, or in a pytest-xdist worker: hence the file, not the stash)."""
    table = MATRIX / "matrix.md"
    started = terminalreporter.config.stash.get(_STARTED, None)
    if started is None or not table.is_file() or table.stat().st_mtime < started:
        return
    terminalreporter.write_sep("=", "build-backend compatibility matrix")
    terminalreporter.write(table.read_text())
    terminalreporter.write_line(f"(also in {table})")


@pytest.fixture(scope="session")
def example_dists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Wheel and sdist of each example, built once per session."""
    out = tmp_path_factory.mktemp("examples")
    found: dict[str, Path] = {}
    for example in ("csv-dedupe", "daily-sales-pipeline"):
        for path in build_example(example, out / example):
            kind = "wheel" if path.suffix == ".whl" else "sdist"
            found[f"{example}:{kind}"] = path
    return found


@pytest.fixture(scope="session")
def pg_server() -> Iterator[postgres.PostgresServer]:
    server = postgres.start_or_missing()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each DB-touching test runs on SQLite and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}"
    pg: postgres.PostgresServer = request.getfixturevalue("pg_server")
    return pg.create_database(f"hub_{uuid.uuid4().hex[:12]}")


@pytest.fixture(scope="session")
def redis_server() -> Iterator[redis.RedisServer]:
    server = redis.start_or_missing()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: redis.RedisServer) -> str:
    """A Redis with nothing in it (flushed for each test)."""
    redis_server.flush()
    return redis_server.url


@pytest.fixture
def postgres_url(pg_server: postgres.PostgresServer) -> str:
    return pg_server.create_database(f"hub_{uuid.uuid4().hex[:12]}")


def make_settings(tmp_path: Path, database_url: str, **overrides: object) -> Settings:
    overrides = {"uploads": UploadLimits(), "serial_poll_interval": 0.2, **overrides}
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        **overrides,  # type: ignore[arg-type]
    )


def start_hub(tmp_path: Path, database_url: str, **overrides: object) -> LiveServer:
    settings = make_settings(tmp_path, database_url, **overrides)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.effective_database_url)
    return start_live(settings)


@pytest.fixture(scope="session")
def sigstore(tmp_path_factory: pytest.TempPathFactory) -> SigstoreInstance:
    """The private Sigstore deployment every live hub of the suite trusts (no network)."""
    return SigstoreInstance(tmp_path_factory.mktemp("sigstore"))


@pytest.fixture
def live(tmp_path: Path, database_url: str, sigstore: SigstoreInstance) -> Iterator[LiveServer]:
    server = start_hub(tmp_path, database_url, sigstore_trust_root=sigstore.trusted_root)
    yield server
    server.stop()


@pytest.fixture
def http(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, timeout=30) as client:
        yield client


@pytest.fixture
def published_catalog(live: LiveServer, http: httpx.Client, example_dists: dict[str, Path]) -> str:
    """alice's token, after she published both csv-dedupe files and the pipeline wheel."""
    from tests.support.upload import upload

    token = live.user_with_token("alice")
    for key in ("csv-dedupe:wheel", "csv-dedupe:sdist", "daily-sales-pipeline:wheel"):
        assert upload(http, token, example_dists[key]).status_code == 200
    # Search is updated right after each commit, but by the indexer task: wait for it, so no
    # test depends on how fast that task ran.
    deadline = time.monotonic() + 10
    while http.get("/api/v1/search").json()["total"] < 2:
        assert time.monotonic() < deadline, "search did not index the published catalog"
        time.sleep(0.02)
    return token
