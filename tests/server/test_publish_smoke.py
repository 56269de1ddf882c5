from __future__ import annotations

from pathlib import Path

import httpx

from tests.support.live import LiveServer
from tests.support.upload import upload


def test_wheel_and_sdist_publish_and_serve(
    live: LiveServer, http: httpx.Client, example_dists: dict[str, Path]
) -> None:
    token = live.user_with_token("alice")
    r = upload(http, token, example_dists["csv-dedupe:wheel"])
    assert r.status_code == 200, r.text
    assert r.json()["created"] is True
    r = upload(http, token, example_dists["csv-dedupe:sdist"])
    assert r.status_code == 200, r.text
    page = http.get("/simple/csv-dedupe/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    assert page.status_code == 200
    body = page.json()
    assert [f["filename"] for f in body["files"]] == [
        "csv_dedupe-1.0.0-py3-none-any.whl",
        "csv_dedupe-1.0.0.tar.gz",
    ]
