"""/readyz reports the database, storage and search separately, each with its latency: 503 when
the database or storage is down, `degraded` (still 200) when only search is; /healthz stays a
pure liveness check through all of it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pysetl_hub_server.search.meili import MeilisearchEngine
from tests.conftest import start_hub
from tests.support.live import LiveServer
from tests.support.postgres import free_port

PARTS = {"database", "storage", "search"}


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("readiness-hub")
    server = start_hub(tmp, f"sqlite+aiosqlite:///{tmp / 'hub.sqlite3'}")
    yield server
    server.stop()


def ready(hub: LiveServer) -> tuple[int, dict[str, Any]]:
    r = httpx.get(f"{hub.url}/readyz", timeout=30)
    assert httpx.get(f"{hub.url}/healthz").json()["status"] == "ok"  # alive whatever happens
    body: dict[str, Any] = r.json()
    assert set(body["parts"]) == PARTS and set(body["checks"]) == PARTS
    for part in body["parts"].values():
        assert part["status"] in ("ok", "error") and part["latency_ms"] >= 0
    return r.status_code, body


def test_all_parts_up(hub: LiveServer) -> None:
    status, body = ready(hub)
    assert status == 200 and body["status"] == "ok"
    assert all(p == {"status": "ok", "latency_ms": p["latency_ms"], "error": None}
               for p in body["parts"].values())  # fmt: skip
    assert body["checks"] == dict.fromkeys(PARTS, "ok")


def test_storage_gone_is_unready(hub: LiveServer) -> None:
    root = hub.settings.data_dir / "blobs"
    assert root.is_dir()
    moved = root.with_name("blobs-away")
    shutil.move(root, moved)
    try:
        status, body = ready(hub)
        assert status == 503 and body["status"] == "unavailable"
        assert body["parts"]["storage"]["status"] == "error"
        assert body["parts"]["storage"]["error"] == "FileNotFoundError"
        assert body["checks"]["storage"] == "error: FileNotFoundError"
        assert body["parts"]["database"]["status"] == "ok"
    finally:
        shutil.move(moved, root)
    assert ready(hub)[0] == 200


def test_storage_not_a_directory_is_unready(hub: LiveServer) -> None:
    """A root replaced by a file (or a mount gone stale) is not storage either."""
    temp = hub.settings.data_dir / "blobs" / ".tmp"
    shutil.rmtree(temp)
    temp.write_text("not a directory")
    try:
        status, body = ready(hub)
        assert status == 503 and body["parts"]["storage"]["status"] == "error"
    finally:
        temp.unlink()
        temp.mkdir()
    assert ready(hub)[0] == 200


def test_search_down_is_degraded_but_ready(hub: LiveServer) -> None:
    """A search engine that does not answer (a Meilisearch URL on a closed port): reads and
    publishes still work, so the replica stays in rotation, reported as degraded."""
    indexer: Any = hub.hub.indexer
    working = indexer.engine
    indexer.engine = MeilisearchEngine(f"http://127.0.0.1:{free_port()}", None, {})
    try:
        status, body = ready(hub)
        assert status == 200 and body["status"] == "degraded"
        assert body["parts"]["search"]["status"] == "error" and body["parts"]["search"]["error"]
        assert body["checks"]["search"].startswith("error: ")
        assert body["parts"]["database"]["status"] == body["parts"]["storage"]["status"] == "ok"
    finally:
        indexer.engine = working
    assert ready(hub)[1]["status"] == "ok"


def test_the_search_probe_asks_the_engine_to_answer_not_to_search(hub: LiveServer) -> None:
    """An empty search ranks every document and counts every facet (hundreds of ms at 100k
    components), and probes come every few seconds per replica: the probe is a ping."""
    engine: Any = hub.hub.indexer.engine
    searched: list[object] = []
    original = engine.search

    async def counting(query: object) -> object:
        searched.append(query)
        return await original(query)

    engine.search = counting
    try:
        for _ in range(3):
            assert ready(hub)[1]["parts"]["search"]["status"] == "ok"
    finally:
        del engine.search  # the class's method again
    assert searched == []


def test_database_down_is_unready(hub: LiveServer) -> None:
    """The hub's sessions swapped for ones on a PostgreSQL address nothing listens on (a
    database host gone): readiness fails on the database alone."""
    from pysetl_hub_server.db.engine import make_engine, make_sessionmaker

    gone = make_engine(f"postgresql+asyncpg://hub@127.0.0.1:{free_port()}/hub", timeout=2)
    working = hub.hub.sessions
    hub.hub.sessions = make_sessionmaker(gone)
    try:
        status, body = ready(hub)
        assert status == 503 and body["status"] == "unavailable"
        assert body["parts"]["database"]["status"] == "error"
        assert body["parts"]["storage"]["status"] == "ok"
    finally:
        hub.hub.sessions = working
        hub.run(lambda _: gone.dispose())
    assert ready(hub)[0] == 200
