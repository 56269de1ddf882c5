"""The index follows the catalog: publish and yank reach it through the outbox, a crash between
commit and index update is repaired on restart, `search reindex` rebuilds it; the API checks
its input."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from pysetl_hub_server.cli import main as server_cli
from pysetl_hub_server.db import models
from pysetl_hub_server.hub import Hub
from tests.conftest import start_hub
from tests.support.live import LiveServer
from tests.support.upload import problem, upload


def names(http: httpx.Client, q: str, **params: str) -> list[str]:
    r = http.get("/api/v1/search", params={"q": q, **params})
    assert r.status_code == 200, r.text
    return [h["name"] for h in r.json()["hits"]]


def eventually(check: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the index did not catch up"
        time.sleep(0.05)


def outbox_rows(live: LiveServer) -> int:
    async def count(hub: Hub) -> int:
        async with hub.sessions() as session:
            return int(await session.scalar(select(func.count(models.SearchOutbox.id))) or 0)

    return live.run(count)


def test_publish_and_yank_reach_the_index(
    live: LiveServer, http: httpx.Client, published_catalog: str
) -> None:
    eventually(lambda: names(http, "csv-dedupe")[:1] == ["csv-dedupe"])
    eventually(lambda: outbox_rows(live) == 0)
    r = http.post(
        "/api/v1/components/csv-dedupe/1.0.0/yank",
        json={"reason": "broken"},
        headers={"Authorization": f"Bearer {published_catalog}"},
    )
    assert r.status_code == 200
    eventually(lambda: "csv-dedupe" not in names(http, "csv"))
    assert "csv-dedupe" in names(http, "csv", include_yanked="true")


def test_crash_after_commit_is_repaired_from_the_outbox(
    tmp_path: Path, database_url: str, example_dists: dict[str, Path]
) -> None:
    # No periodic sweep: only a kick after commit, or a start, applies the outbox.
    live = start_hub(tmp_path, database_url, search_interval=3600.0)
    try:
        token = live.user_with_token("alice")
        live.hub.faults.arm("publish.after_commit")
        with httpx.Client(base_url=live.url, timeout=30) as http:
            r = upload(http, token, example_dists["csv-dedupe:wheel"])
            assert r.status_code == 500
            # committed: the release exists, and so does its outbox row, but not in the index
            assert http.get("/api/v1/components/csv-dedupe").status_code == 200
            assert outbox_rows(live) >= 1  # one per change in that transaction
            assert names(http, "csv-dedupe") == []

            async def restart(hub: Hub) -> None:  # what a restarted process does first
                await hub.indexer.start()

            live.run(restart)
            # Indexed by another process (a private hub): kept answers go once this server
            # sees the index version move (checked twice a second).
            eventually(lambda: names(http, "csv-dedupe")[:1] == ["csv-dedupe"], seconds=5)
            assert outbox_rows(live) == 0
    finally:
        live.stop()


def test_reindex_rebuilds_from_the_database(
    live: LiveServer, http: httpx.Client, published_catalog: str
) -> None:
    eventually(lambda: bool(names(http, "daily")))

    async def wipe(hub: Hub) -> None:
        await hub.search.clear()

    live.run(wipe)  # another process (a private hub) clears the index
    eventually(lambda: names(http, "daily") == [], seconds=5)
    settings = live.settings
    result = CliRunner().invoke(
        server_cli,
        [
            "--data-dir",
            str(settings.data_dir),
            "--database-url",
            settings.effective_database_url,
            "search",
            "reindex",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "indexed 2 components" in result.output
    # Another process rebuilt the index: this server's kept answers go once its vocabulary
    # sees the index version move (checked every second).
    eventually(lambda: names(http, "daily") == ["daily-sales-pipeline"], seconds=5)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"pysetl": "not-a-version"}, "search.version"),
        ({"q": "x" * 201}, "search.query"),
    ],
)
def test_bad_requests_are_problems(http: httpx.Client, params: dict[str, str], code: str) -> None:
    r = http.get("/api/v1/search", params=params)
    assert r.status_code == 400
    assert problem(r)["code"] == code


def test_paging_bounds(http: httpx.Client) -> None:
    assert http.get("/api/v1/search", params={"per_page": "0"}).status_code == 400
    assert http.get("/api/v1/search", params={"sort": "random"}).status_code == 400
