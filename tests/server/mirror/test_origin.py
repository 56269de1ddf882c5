"""What a mirror takes from a signed feed entry: a malicious (or compromised) origin signs what
it likes, so an entry's URL, sha256 and size are checked before anything is fetched or written.

Two real HTTP servers on loopback: the "origin" (answers every path with more bytes than it
declares) and an "inner" service the mirror can reach and the origin cannot, which counts the
requests that reach it. Nothing is mocked.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from pysetl_hub_schemas.feed import FeedFile
from pysetl_hub_server.mirror.origin import Origin, OriginError

BODY = b"x" * 4096
SHA = "0" * 64


class _Server:
    def __init__(self) -> None:
        self.hits: list[str] = []
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", str(len(BODY)))
                self.end_headers()
                self.wfile.write(BODY)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[_Server, _Server]]:
    origin, inner = _Server(), _Server()
    yield origin, inner
    origin.stop()
    inner.stop()


def _download(base: str, file: FeedFile, spool: Path, max_size: int = 1 << 20) -> OriginError:
    async def go() -> OriginError:
        origin = Origin.open(base)
        try:
            with pytest.raises(OriginError) as refused:
                await origin.download(file, spool, max_size)
            return refused.value
        finally:
            await origin.close()

    return asyncio.run(go())


def test_an_entry_that_points_off_the_origin_is_never_fetched(
    servers: tuple[_Server, _Server], tmp_path: Path
) -> None:
    origin, inner = servers
    host = inner.url.removeprefix("http:")
    for url in (f"{inner.url}/latest/meta-data", f"{host}/admin", "files/x.whl"):
        file = FeedFile(filename="a-1.0-py3-none-any.whl", sha256=SHA, url=url)
        assert _download(origin.url, file, tmp_path).code == "mirror.entry", url
    assert inner.hits == []
    assert origin.hits == []

    async def provenance() -> OriginError:
        o = Origin.open(origin.url)
        try:
            with pytest.raises(OriginError) as refused:
                await o.attestations(f"{inner.url}/integrity/a/1.0/a.whl/provenance")
            return refused.value
        finally:
            await o.close()

    assert asyncio.run(provenance()).code == "mirror.entry"
    assert inner.hits == []


def test_a_sha256_that_is_not_hex_names_no_file(
    servers: tuple[_Server, _Server], tmp_path: Path
) -> None:
    origin, _inner = servers
    spool = tmp_path / "spool" / "deep"
    spool.mkdir(parents=True)
    bad = "/../../" + "0" * 57
    file = FeedFile(filename="a-1.0-py3-none-any.whl", sha256=bad, url=f"/files/{bad}/a.whl")
    assert _download(origin.url, file, spool).code == "mirror.entry"
    assert not any(tmp_path.rglob("*.part"))
    assert origin.hits == []


def test_a_file_larger_than_declared_or_than_the_cap_is_refused_unstored(
    servers: tuple[_Server, _Server], tmp_path: Path
) -> None:
    origin, _inner = servers
    file = FeedFile(filename="a-1.0-py3-none-any.whl", sha256=SHA, url="/files/a.whl", size=10)
    assert _download(origin.url, file, tmp_path).code == "mirror.too_large"
    undeclared = FeedFile(filename="a-1.0-py3-none-any.whl", sha256=SHA, url="/files/b.whl")
    assert _download(origin.url, undeclared, tmp_path, max_size=100).code == "mirror.too_large"
    huge = FeedFile(filename="a-1.0-py3-none-any.whl", sha256=SHA, url="/files/c.whl", size=1 << 40)
    assert _download(origin.url, huge, tmp_path).code == "mirror.too_large"
    assert "/files/c.whl" not in origin.hits  # refused on the entry's word, before the request
    assert list(tmp_path.iterdir()) == []
