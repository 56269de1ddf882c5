"""An object store that goes down after a commit changes no answer: deleting a file while S3 is
down is the deletion's success and its blobs are deleted by the sweep once the store is back; a
store that drops the connection before the first byte of a download is a 503, not a 500."""

from __future__ import annotations

import asyncio
import hashlib
import http.server
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import obstore
import pytest
from sqlalchemy import select

from pysetl_hub_server.db import models
from pysetl_hub_server.errors import ServiceUnavailable
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.storage.blobs import ObjectStoreBlobStore, S3Access, blob_key
from pysetl_hub_server.storage.pending import drop_pending
from tests.conftest import start_hub
from tests.support import s3
from tests.support.upload import problem, upload

JSON = "application/vnd.pypi.simple.v1+json"


@pytest.fixture(scope="module")
def moto() -> Iterator[s3.S3Server]:
    server = s3.start_or_missing()
    yield server
    server.stop()


async def pending(hub: Hub) -> set[str]:
    async with hub.sessions() as session:
        return set(await session.scalars(select(models.PendingBlobDelete.sha256)))


async def sweep(hub: Hub) -> int:
    return await drop_pending(hub.sessions, hub.blobs, settle=timedelta(0))


def test_a_delete_while_the_store_is_down_succeeds_and_the_sweep_deletes_the_blobs_later(
    tmp_path: Path, moto: s3.S3Server, example_dists: dict[str, Path]
) -> None:
    wheel = example_dists["csv-dedupe:wheel"]
    live = start_hub(
        tmp_path,
        f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}",
        storage_url=moto.storage_url("del"),
        storage_endpoint=moto.endpoint,
        storage_region=s3.REGION,
        storage_access_key_id=s3.ACCESS_KEY_ID,
        storage_secret_access_key=s3.SECRET_ACCESS_KEY,
    )
    try:
        token = live.user_with_token("alice")
        with httpx.Client(base_url=live.url, timeout=60) as http:
            assert upload(http, token, wheel).status_code == 200
            page = http.get("/simple/csv-dedupe/", headers={"Accept": JSON})
            entry = page.json()["files"][0]
            digests = {entry["hashes"]["sha256"], entry["core-metadata"]["sha256"]}
            keys = {f"del/{blob_key(d)}" for d in digests}
            assert all(moto.has(k) for k in keys)
            version = wheel.name.split("-")[1]
            url = f"/api/v1/components/csv-dedupe/{version}/files/{wheel.name}"

            moto.halt()
            try:
                answer = http.delete(url, headers={"Authorization": f"Bearer {token}"})
                assert answer.status_code == 200, answer.text
                assert answer.json()["filenames"] == [wheel.name]
                assert answer.json()["release_deleted"] is True
                gone = http.delete(url, headers={"Authorization": f"Bearer {token}"})
                assert gone.status_code == 404  # the rows went, as the answer said
                assert live.run(pending) == digests  # kept for the sweep
                # a publish that fails on the store leaves its blob to the sweep too
                other = example_dists["daily-sales-pipeline:wheel"]
                refused = upload(http, token, other)
                assert refused.status_code == 503
                assert problem(refused)["code"] == "storage.unavailable"
                other_sha = hashlib.sha256(other.read_bytes()).hexdigest()
                assert other_sha in live.run(pending)
                with pytest.raises(ServiceUnavailable):  # still down: the sweep tries later
                    live.run(sweep)
                assert digests | {other_sha} <= live.run(pending)  # nothing lost
            finally:
                moto.resume()
            # moto forgets its objects when stopped; a real store keeps them: put them back.
            for key in keys:
                obstore.put(moto.client(), key, b"left behind")
            # the periodic sweep leaves fresh rows to the retries of the failed publish
            assert live.run(lambda hub: drop_pending(hub.sessions, hub.blobs)) == 0
            assert live.run(sweep) >= 2
            assert live.run(pending) == set()
            assert not any(moto.has(k) for k in keys)
    finally:
        live.stop()


class _CutOff(http.server.BaseHTTPRequestHandler):
    """An S3 endpoint that sends a GET's head (200, 1000 bytes) and hangs up before the body."""

    def do_GET(self) -> None:
        ranged = self.headers.get("Range") is not None
        self.send_response(206 if ranged else 200)
        if ranged:
            self.send_header("Content-Range", "bytes 0-999/1000")
        self.send_header("Content-Length", "1000")
        self.send_header("ETag", '"abc"')
        self.send_header("Last-Modified", "Mon, 30 Nov 2026 12:00:00 GMT")
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_connection_dropped_before_the_first_chunk_is_the_stores_outage() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CutOff)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        store = ObjectStoreBlobStore(
            "s3://bucket",
            S3Access(endpoint, s3.REGION, s3.ACCESS_KEY_ID, s3.SECRET_ACCESS_KEY),
        )

        async def first_chunk() -> bytes:
            return await anext(store.stream(blob_key("ab" * 32)))

        with pytest.raises(ServiceUnavailable) as raised:
            asyncio.run(first_chunk())
        assert raised.value.code == "storage.unavailable"
    finally:
        server.shutdown()
        server.server_close()
