"""A search engine that does not answer (a Meilisearch URL where nothing listens: none can be
installed here) degrades search only: the hub starts, search is a clear 503 problem, publishing
goes on, and the change waits in the outbox for the engine to come back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from pysetl_hub_server.db import models
from pysetl_hub_server.hub import Hub
from tests.conftest import start_hub
from tests.support.live import LiveServer
from tests.support.postgres import free_port
from tests.support.sigstore_instance import SigstoreInstance
from tests.support.upload import problem, upload


@pytest.fixture
def hub_without_engine(tmp_path: Path, sigstore: SigstoreInstance) -> Iterator[LiveServer]:
    server = start_hub(
        tmp_path,
        f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}",
        search_url=f"http://127.0.0.1:{free_port()}",
        sigstore_trust_root=sigstore.trusted_root,
    )
    yield server
    server.stop()


def test_search_is_503_and_publishing_goes_on(
    hub_without_engine: LiveServer, example_dists: dict[str, Path]
) -> None:
    live = hub_without_engine
    with httpx.Client(base_url=live.url, timeout=30) as http:
        searched = http.get("/api/v1/search", params={"q": "csv"})
        assert searched.status_code == 503
        body = problem(searched)
        assert body["code"] == "search.unavailable"
        assert "PYSETL_HUB_SEARCH_URL" in body["detail"]
        assert int(searched.headers["retry-after"]) > 0
        token = live.user_with_token("alice")
        assert upload(http, token, example_dists["csv-dedupe:wheel"]).status_code == 200
        assert http.get("/simple/csv-dedupe/").status_code == 200

    async def pending(hub: Hub) -> list[str]:
        async with hub.sessions() as session:
            return list(await session.scalars(select(models.SearchOutbox.component)))

    assert "csv-dedupe" in live.run(pending)
