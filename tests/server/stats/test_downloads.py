"""`GET /api/v1/components/{name}/downloads` over real downloads: the series, the totals and the
per-version split; counts that survive a restart and that replicas on one database sum up."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from pysetl_hub_server.bounds import MAX_DAYS
from tests.conftest import start_hub
from tests.support.dists import repack
from tests.support.live import LiveServer
from tests.support.upload import problem, upload

JSON = {"Accept": "application/vnd.pypi.simple.v1+json"}


def file_urls(http: httpx.Client) -> dict[str, str]:
    files = http.get("/simple/csv-dedupe/", headers=JSON).json()["files"]
    return {f["filename"]: f["url"] for f in files}


def publish(live: LiveServer, example_dists: dict[str, Path], tmp: Path) -> dict[str, str]:
    """csv-dedupe 1.0.0 (wheel and sdist) and 1.0.1 (wheel); the URL of each file."""
    token = live.user_with_token("alice")
    newer = repack(example_dists["csv-dedupe:wheel"], tmp / "dists", version="1.0.1")
    with httpx.Client(base_url=live.url, timeout=30) as http:
        for path in (example_dists["csv-dedupe:wheel"], example_dists["csv-dedupe:sdist"], newer):
            assert upload(http, token, path).status_code == 200
        return file_urls(http)


def download(live: LiveServer, path: str, times: int) -> None:
    with httpx.Client(base_url=live.url, timeout=30) as http:
        for _ in range(times):
            assert http.get(path).status_code == 200


def stats(live: LiveServer, **params: Any) -> dict[str, Any]:
    r = httpx.get(f"{live.url}/api/v1/components/csv-dedupe/downloads", params=params)
    assert r.status_code == 200, r.text
    return dict(r.json())


def until(live: LiveServer, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The statistics once `done` holds: counts reach the database on the flush interval, so
    the test waits for the observable result (with a deadline), not for a guessed time."""
    deadline = time.monotonic() + 15
    while not done(found := stats(live)):
        assert time.monotonic() < deadline, f"download counts were not flushed: {found}"
        time.sleep(0.05)
    return found


@pytest.fixture(scope="module")
def hub(
    tmp_path_factory: pytest.TempPathFactory, example_dists: dict[str, Path]
) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("stats")
    live = start_hub(tmp, f"sqlite+aiosqlite:///{tmp / 'hub.sqlite3'}", download_flush_interval=0.1)
    urls = publish(live, example_dists, tmp)
    download(live, urls["csv_dedupe-1.0.0-py3-none-any.whl"], 3)
    download(live, urls["csv_dedupe-1.0.0.tar.gz"], 1)
    download(live, urls["csv_dedupe-1.0.1-py3-none-any.whl"], 2)
    yield live, urls
    live.stop()


def test_series_totals_and_versions(hub: tuple[LiveServer, dict[str, str]]) -> None:
    live, _ = hub
    found = until(live, lambda s: s["total"] == 6)
    today = datetime.now(UTC).date()
    assert found["name"] == "csv-dedupe" and found["days"] == 30
    assert [d["day"] for d in found["series"]] == [
        (today - timedelta(days=29 - i)).isoformat() for i in range(30)
    ]
    assert [d["downloads"] for d in found["series"]] == [0] * 29 + [6]
    assert found["last_30_days"] == 6
    assert found["versions"] == [
        {"version": "1.0.0", "last_30_days": 4, "total": 4},
        {"version": "1.0.1", "last_30_days": 2, "total": 2},
    ]
    week = stats(live, days=7)
    assert week["days"] == 7 and len(week["series"]) == 7 and week["series"][-1]["downloads"] == 6
    assert stats(live, days=MAX_DAYS)["days"] == MAX_DAYS


@pytest.mark.parametrize("days", ["0", "-1", str(MAX_DAYS + 1), "99999999999999999999", "x"])
def test_bad_days_are_a_400_problem(hub: tuple[LiveServer, dict[str, str]], days: str) -> None:
    live, _ = hub
    r = httpx.get(f"{live.url}/api/v1/components/csv-dedupe/downloads", params={"days": days})
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "days" in r.text


def test_an_unknown_component_is_a_404_problem(hub: tuple[LiveServer, dict[str, str]]) -> None:
    live, _ = hub
    r = httpx.get(f"{live.url}/api/v1/components/no-such-thing/downloads")
    assert r.status_code == 404
    assert problem(r)["code"] == "component.missing" and "no-such-thing" in r.text


def test_counts_survive_a_restart(
    tmp_path: Path, database_url: str, example_dists: dict[str, Path]
) -> None:
    """Counts kept in memory are flushed when the server stops; a new server on the same
    database serves them (the periodic flush is set far off so only the stop can write)."""
    first = start_hub(tmp_path, database_url, download_flush_interval=3600.0)
    try:
        urls = publish(first, example_dists, tmp_path)
        download(first, urls["csv_dedupe-1.0.1-py3-none-any.whl"], 3)
        assert stats(first)["total"] == 0  # still in memory
    finally:
        first.stop()
    second = start_hub(tmp_path, database_url, download_flush_interval=3600.0)
    try:
        found = stats(second)
        assert found["total"] == found["last_30_days"] == 3
        assert found["versions"] == [{"version": "1.0.1", "last_30_days": 3, "total": 3}]
        download(second, urls["csv_dedupe-1.0.1-py3-none-any.whl"], 1)
    finally:
        second.stop()
    third = start_hub(tmp_path, database_url, download_flush_interval=3600.0)
    try:
        assert stats(third)["total"] == 4  # added to, not replaced
    finally:
        third.stop()


def test_replicas_on_one_database_sum_up(
    tmp_path: Path, database_url: str, example_dists: dict[str, Path]
) -> None:
    a = start_hub(tmp_path, database_url, download_flush_interval=0.1)
    b = start_hub(tmp_path, database_url, download_flush_interval=0.1)
    try:
        urls = publish(a, example_dists, tmp_path)
        wheel = urls["csv_dedupe-1.0.0-py3-none-any.whl"]
        download(a, wheel, 2)
        download(b, wheel, 3)
        download(b, urls["csv_dedupe-1.0.1-py3-none-any.whl"], 1)
        found = until(a, lambda s: s["total"] == 6)
        assert stats(b) == found  # either replica answers the same sum
        assert found["versions"] == [
            {"version": "1.0.0", "last_30_days": 5, "total": 5},
            {"version": "1.0.1", "last_30_days": 1, "total": 1},
        ]
    finally:
        a.stop()
        b.stop()
