"""Security fixtures: hubs with small rate limits, counting in memory or in a real Redis."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import start_hub
from tests.support.live import LiveServer
from tests.support.sigstore_instance import SigstoreInstance

StartHub = Callable[..., LiveServer]


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def counters(request: pytest.FixtureRequest) -> str | None:
    """Where rate-limit counters live: None (this process's memory) or a Redis URL."""
    if request.param == "memory":
        return None
    url: str = request.getfixturevalue("redis_url")
    return url


@pytest.fixture
def hubs(tmp_path: Path, sigstore: SigstoreInstance) -> Iterator[StartHub]:
    """Start live hubs (SQLite) with given settings; all are stopped after the test."""
    started: list[LiveServer] = []

    def start(name: str = "hub", **overrides: object) -> LiveServer:
        root = tmp_path / name
        url = f"sqlite+aiosqlite:///{root / 'hub.sqlite3'}"
        root.mkdir(parents=True, exist_ok=True)
        server = start_hub(root, url, sigstore_trust_root=sigstore.trusted_root, **overrides)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
