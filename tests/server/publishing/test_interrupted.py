"""A server killed in the middle of an upload: after a restart on the same data directory,
nothing of the upload is left or visible, and the same upload succeeds.

A real `pysetl-hub-server serve` process receives half of a large upload over a raw socket and
is SIGKILLed while its spool file is being written, so no clean-up of its own runs; the sweep at
the next start has to remove what it left.
"""

from __future__ import annotations

import os
import socket
import time
from base64 import b64encode
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import postgres
from tests.support.dists import repack
from tests.support.served import Served, serve
from tests.support.upload import form_for, upload


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str | None:
    """None: SQLite in the data directory, as `serve` sets it up by default."""
    if request.param == "sqlite":
        return None
    pg: postgres.PostgresServer = request.getfixturevalue("pg_server")
    return pg.create_database(f"killed_{os.getpid()}_{time.monotonic_ns()}")


@pytest.fixture
def large_wheel(example_dists: dict[str, Path], tmp_path: Path) -> Path:
    def pad(members: dict[str, bytes]) -> None:
        members["csv_dedupe/padding.bin"] = os.urandom(8 * 1024 * 1024)

    return repack(example_dists["csv-dedupe:wheel"], tmp_path / "dist", mutate=pad)


def send_half(url: str, token: str, dist: Path) -> socket.socket:
    """Send the headers and the first half of the body of a twine-shaped upload; the rest
    never comes."""
    with httpx.Client(base_url=url) as client:
        request = client.build_request(
            "POST",
            "/legacy/",
            data=form_for(dist),
            files={"content": (dist.name, dist.read_bytes(), "application/octet-stream")},
            headers={"Authorization": "Basic " + b64encode(f"__token__:{token}".encode()).decode()},
        )
    body = request.read()
    head = f"POST /legacy/ HTTP/1.1\r\nHost: {request.url.netloc.decode()}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in request.headers.items() if k.lower() != "host")
    conn = socket.create_connection((request.url.host, request.url.port or 80))
    conn.sendall(head.encode() + b"\r\n" + body[: len(body) // 2])
    return conn


def spooling(served: Served, at_least: int) -> Path:
    """The spool file of the upload in flight, once it holds `at_least` bytes."""
    spool = served.data_dir / "spool"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for path in spool.iterdir():
            if path.stat().st_size >= at_least:
                return path
        time.sleep(0.02)
    raise AssertionError("the server never spooled the upload")


@pytest.fixture
def served(tmp_path: Path, database_url: str | None) -> Iterator[list[Served]]:
    """Every server process the test starts; each is stopped at the end."""
    started: list[Served] = []
    yield started
    for one in started:
        one.stop()


def test_a_server_killed_mid_upload_leaves_nothing_and_the_upload_then_succeeds(
    served: list[Served], database_url: str | None, large_wheel: Path, tmp_path: Path
) -> None:
    data, log = tmp_path / "hub-data", tmp_path / "server.log"
    served.append(serve(data, log, database_url=database_url))
    token = served[0].token(database_url)
    conn = send_half(served[0].url, token, large_wheel)
    try:
        left = spooling(served[0], at_least=1024 * 1024)
        served[0].kill()
    finally:
        conn.close()
    assert left.exists(), "a killed process cleans nothing up: the test has no left-over"

    served.append(serve(data, log, database_url=database_url))  # the same data directory
    restarted = served[1]

    assert not any((data / "spool").iterdir()), "the start-up sweep kept a dead upload's file"
    assert not any((data / "blobs" / ".tmp").iterdir())
    assert not [p for p in (data / "blobs").rglob("*") if p.is_file()]
    with httpx.Client(base_url=restarted.url, timeout=60) as http:
        assert http.get("/simple/csv-dedupe/").status_code == 404
        assert http.get("/api/v1/components/csv-dedupe").status_code == 404
        r = upload(http, token, large_wheel)
        assert r.status_code == 200 and r.json()["created"] is True, r.text
        assert large_wheel.name in http.get("/simple/csv-dedupe/").text
