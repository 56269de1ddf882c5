"""Downloads are counted (hot path and handler alike, GET 200 only) and reach search."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from sqlalchemy import func, select

from pysetl_hub_server.db import models
from pysetl_hub_server.downloads import project_of
from pysetl_hub_server.hub import Hub
from tests.conftest import start_hub
from tests.support.upload import upload


def test_downloads_are_counted_and_searchable(
    tmp_path: Path, database_url: str, example_dists: dict[str, Path]
) -> None:
    live = start_hub(tmp_path, database_url, download_flush_interval=0.2)
    try:
        token = live.user_with_token("alice")
        with httpx.Client(base_url=live.url, timeout=30) as http:
            assert upload(http, token, example_dists["csv-dedupe:wheel"]).status_code == 200
            url = http.get(
                "/simple/csv-dedupe/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
            ).json()["files"][0]["url"]
            assert http.get(url).status_code == 200  # the handler (bytes not yet in memory)
            assert http.get(url).status_code == 200  # the hot path
            etag = http.head(url).headers["etag"]  # HEAD: not a download
            assert http.get(url, headers={"If-None-Match": etag}).status_code == 304
            assert http.get(url + ".metadata").status_code == 200  # metadata: not a download

            async def total(hub: Hub) -> int:
                async with hub.sessions() as session:
                    n = await session.scalar(select(func.sum(models.DownloadCount.count)))
                    return int(n or 0)

            deadline = time.monotonic() + 10
            while live.run(total) < 2:
                assert time.monotonic() < deadline, "download counts were not flushed"
                time.sleep(0.05)
            time.sleep(0.5)
            assert live.run(total) == 2

            def hit() -> int:
                hits = http.get("/api/v1/search", params={"q": "csv-dedupe"}).json()["hits"]
                return int(hits[0]["downloads"]) if hits else -1

            deadline = time.monotonic() + 10
            while hit() != 2:
                assert time.monotonic() < deadline, "search did not see the downloads"
                time.sleep(0.05)
    finally:
        live.stop()


def test_project_of() -> None:
    assert project_of("csv_dedupe-1.0.0-py3-none-any.whl") == "csv-dedupe"
    assert project_of("csv_dedupe-1.0.0.tar.gz") == "csv-dedupe"
    assert project_of("nonsense.zip") is None
