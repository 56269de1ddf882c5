"""Two hub processes' worth of apps on one database: a page one replica keeps in its memo is
dropped when the other publishes (the serial both poll), and organization pages list what the
organization owns."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import start_hub
from tests.support.dists import repack
from tests.support.live import LiveServer
from tests.support.upload import upload

HTML = {"Accept": "text/html"}


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}"
    one = start_hub(tmp_path / "one", url)
    two = start_hub(tmp_path / "two", url)  # its own files folder: pages need only the DB
    yield one, two
    two.stop()
    one.stop()


def test_a_publish_on_one_replica_refreshes_the_page_another_keeps(
    replicas: tuple[LiveServer, LiveServer], example_dists: dict[str, Path], tmp_path: Path
) -> None:
    one, two = replicas
    token = one.user_with_token("alice")
    wheel = example_dists["csv-dedupe:wheel"]
    with httpx.Client(base_url=one.url, timeout=30) as api:
        assert upload(api, token, wheel).status_code == 200
    with httpx.Client(base_url=two.url, headers=HTML, timeout=30) as reader:
        first = reader.get("/components/csv-dedupe")
        assert first.status_code == 200 and "1.0.0" in first.text
        assert reader.get("/components/csv-dedupe").headers["etag"] == first.headers["etag"]
        newer = repack(wheel, tmp_path / "newer", version="2.0.0")
        with httpx.Client(base_url=one.url, timeout=30) as api:
            assert upload(api, token, newer).status_code == 200
        deadline = time.monotonic() + 5  # the serial is polled every 0.2 s in tests
        while "2.0.0" not in (page := reader.get("/components/csv-dedupe")).text:
            assert time.monotonic() < deadline, "the other replica kept serving a stale page"
            time.sleep(0.1)
        assert page.headers["etag"] != first.headers["etag"]
        # The home page's cards are search documents, written by whichever replica's indexer
        # runs first: one rendered before that lives only a few seconds (web/cache.py settle).
        deadline = time.monotonic() + 10
        while "2.0.0" not in reader.get("/").text:
            assert time.monotonic() < deadline, "the other replica kept a stale home page"
            time.sleep(0.2)


def test_an_organization_page_lists_its_members_and_components(
    replicas: tuple[LiveServer, LiveServer], example_dists: dict[str, Path]
) -> None:
    one, _ = replicas
    token = one.user_with_token("alice")
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=one.url, timeout=30) as api:
        assert upload(api, token, example_dists["csv-dedupe:wheel"]).status_code == 200
        assert api.post("/api/v1/orgs", json={"name": "acme"}, headers=auth).status_code == 201
        moved = api.post(
            "/api/v1/components/csv-dedupe/transfer", json={"organization": "acme"}, headers=auth
        )
        assert moved.status_code == 200, moved.text
        page = api.get("/orgs/acme", headers=HTML)
        assert page.status_code == 200
        assert 'href="/users/alice"' in page.text and 'href="/components/csv-dedupe"' in page.text
        component = api.get("/components/csv-dedupe", headers=HTML)
        assert 'href="/orgs/acme"' in component.text
        assert api.get("/orgs/nobody", headers=HTML).status_code == 404
