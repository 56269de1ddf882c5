"""Feed tests: live hubs that share one database (replicas), wheels of any name, and a small
Server-Sent Events reader over a real HTTP stream."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pysetl_hub_server.settings import Feed
from tests.support.governance import wheel
from tests.support.live import LiveServer
from tests.support.upload import upload

# One key for every replica, as a multi-replica deployment sets PYSETL_HUB_FEED_SIGNING_KEY.
SHARED_KEY = base64.b64encode(
    Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
).decode()
FAST = Feed(
    signing_key=SHARED_KEY,
    heartbeat=0.5,
    stream_poll=0.1,
    stream_lifetime=30.0,
    webhook_interval=0.1,
    webhook_timeout=1.5,
    webhook_attempts=3,
    webhook_backoff=0.05,
    webhook_backoff_max=0.2,
    webhook_disable_after=5,
    webhook_allow_private=True,  # the receivers of these tests listen on loopback
)


@dataclass
class Replicas:
    """Two hubs on one database, as two replicas behind a load balancer."""

    a: LiveServer
    b: LiveServer
    source: Path
    out: Path

    def publish(self, via: LiveServer, token: str, name: str, version: str) -> Path:
        path = wheel(self.source, self.out, name, version)
        with httpx.Client(base_url=via.url, timeout=30) as http:
            r = upload(http, token, path)
        assert r.status_code == 200, r.text
        return path


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def replicas(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    example_dists: dict[str, Path],
) -> Iterator[Replicas]:
    from tests.conftest import start_hub

    tmp = tmp_path_factory.mktemp("hub")
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp / 'hub.sqlite3'}"
    else:
        url = request.getfixturevalue("pg_server").create_database(f"feed_{uuid.uuid4().hex[:12]}")
    trust = request.getfixturevalue("sigstore").trusted_root
    shared = {"sigstore_trust_root": trust, "feed": FAST, "storage_url": (tmp / "blobs").as_uri()}
    a = start_hub(tmp / "a", url, **shared)
    b = start_hub(tmp / "b", url, **shared)
    try:
        yield Replicas(a, b, example_dists["csv-dedupe:wheel"], tmp_path_factory.mktemp("w"))
    finally:
        a.stop()
        b.stop()


@dataclass
class Event:
    id: str | None = None
    data: str = ""
    comments: list[str] = field(default_factory=list)


def sse_events(lines: Iterator[str]) -> Iterator[Event]:
    """Events of a text/event-stream, one per blank-line-terminated block (comments kept)."""
    event = Event()
    for line in lines:
        if line == "":
            yield event
            event = Event()
        elif line.startswith(":"):
            event.comments.append(line[1:].strip())
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "id":
                event.id = value
            elif name == "data":
                event.data = f"{event.data}\n{value}" if event.data else value
