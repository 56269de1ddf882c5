"""Conformance suite: every blob store implementation that can run here passes the same tests.

S3 is exercised for real over loopback: moto's server mode (tests/support/s3.py) speaks the S3
protocol, so obstore signs and sends the same requests it would to AWS or MinIO. GCS and Azure
have no local server here; obstore's in-memory and local backends stand beside them.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pysetl_hub_server.errors import ServiceUnavailable
from pysetl_hub_server.storage.blobs import (
    BlobNotFound,
    BlobStore,
    LocalBlobStore,
    ObjectStoreBlobStore,
    S3Access,
    blob_key,
    open_blob_store,
)
from tests.support import s3
from tests.support.postgres import free_port


@pytest.fixture(scope="module")
def moto() -> Iterator[s3.S3Server]:
    server = s3.start_or_missing()
    yield server
    server.stop()


def s3_store(server: s3.S3Server, prefix: str) -> ObjectStoreBlobStore:
    access = S3Access(server.endpoint, s3.REGION, s3.ACCESS_KEY_ID, s3.SECRET_ACCESS_KEY)
    return ObjectStoreBlobStore(server.storage_url(prefix), access)


@pytest.fixture(params=["local", "obstore-memory", "obstore-local", "s3-moto"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return LocalBlobStore(tmp_path / "blobs")
    if request.param == "obstore-memory":
        return ObjectStoreBlobStore("memory:///")
    if request.param == "s3-moto":
        # A fresh prefix per test: the cases see an empty store, as the others do.
        return s3_store(request.getfixturevalue("moto"), f"t-{uuid.uuid4().hex[:8]}")
    (tmp_path / "obs").mkdir()
    return ObjectStoreBlobStore((tmp_path / "obs").as_uri())


def test_roundtrip_file_and_bytes(store: BlobStore, tmp_path: Path) -> None:
    data = bytes(range(256)) * 9000  # > one read chunk
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    key = blob_key(hashlib.sha256(data).hexdigest())

    async def go() -> None:
        assert await store.size(key) is None
        await store.put_file(key, src)
        assert await store.size(key) == len(data)
        assert await store.get_bytes(key) == data
        chunks = [c async for c in store.stream(key)]
        assert b"".join(chunks) == data
        await store.put_bytes("sha256/aa/bb/small", b"hello")
        assert await store.get_bytes("sha256/aa/bb/small") == b"hello"

    asyncio.run(go())


def test_put_is_idempotent(store: BlobStore) -> None:
    async def go() -> None:
        await store.put_bytes("k/1", b"same")
        await store.put_bytes("k/1", b"same")
        assert await store.get_bytes("k/1") == b"same"

    asyncio.run(go())


def test_missing_and_delete(store: BlobStore) -> None:
    async def go() -> None:
        with pytest.raises(BlobNotFound):
            await store.get_bytes("nope/1")
        with pytest.raises(BlobNotFound):
            [c async for c in store.stream("nope/1")]
        await store.put_bytes("d/1", b"x")
        await store.delete("d/1")
        await store.delete("d/1")  # absent is fine
        assert await store.size("d/1") is None

    asyncio.run(go())


def test_local_store_writes_atomically(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")

    class Boom(Exception):
        pass

    def explode(out: object) -> None:
        out.write(b"partial")  # type: ignore[attr-defined]
        raise Boom

    with pytest.raises(Boom):
        store._write_atomic("a/b", explode)
    assert not (tmp_path / "blobs" / "a" / "b").exists()
    assert list((tmp_path / "blobs" / ".tmp").iterdir()) == []
    assert store.local_path("a/b") is None


def test_local_store_refuses_escaping_keys(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    with pytest.raises(ValueError, match="invalid blob key"):
        asyncio.run(store.put_bytes("../escape", b"x"))


def test_open_by_url(tmp_path: Path) -> None:
    assert isinstance(open_blob_store(tmp_path.as_uri()), LocalBlobStore)
    assert isinstance(open_blob_store("memory:///"), ObjectStoreBlobStore)
    with pytest.raises(ValueError, match="unsupported storage URL"):
        open_blob_store("ftp://x")


def test_s3_objects_land_under_the_prefix_path_style(moto: s3.S3Server) -> None:
    """The settings reach obstore: the custom endpoint, path-style addressing (moto and MinIO
    serve no per-bucket host names), plain http allowed because the endpoint is http."""
    store = s3_store(moto, "hub")
    data = b"wheel bytes"
    key = blob_key(hashlib.sha256(data).hexdigest())
    asyncio.run(store.put_bytes(key, data))
    assert moto.has(f"hub/{key}")


def test_s3_presigned_url_downloads_the_blob(moto: s3.S3Server) -> None:
    store = s3_store(moto, "signed")
    data = b"presigned bytes" * 100
    key = blob_key(hashlib.sha256(data).hexdigest())
    asyncio.run(store.put_bytes(key, data))
    url = asyncio.run(store.presigned_url(key, 60))
    assert url is not None and url.startswith(f"{moto.endpoint}/{moto.bucket}/signed/{key}?")
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=60" in url
    answer = httpx.get(url, timeout=10)
    assert answer.status_code == 200 and answer.content == data


def test_stores_that_cannot_sign_give_no_url(tmp_path: Path) -> None:
    assert asyncio.run(LocalBlobStore(tmp_path / "b").presigned_url("k", 60)) is None
    assert asyncio.run(ObjectStoreBlobStore("memory:///").presigned_url("k", 60)) is None


def test_plain_http_only_for_an_http_endpoint() -> None:
    assert S3Access("http://127.0.0.1:9000").allow_http
    assert not S3Access("https://s3.example.org").allow_http
    assert not S3Access(None).allow_http
    assert S3Access("http://minio:9000/").config()["endpoint"] == "http://minio:9000"
    assert S3Access("http://minio:9000/").config()["virtual_hosted_style_request"] is False


def test_unreachable_store_is_a_503_outage_quickly(tmp_path: Path) -> None:
    """A store that refuses connections fails in seconds as 503 storage.unavailable (with
    Retry-After), not after obstore's default three minutes of retries, and not as a 500."""
    dead = s3.S3Server(Path("/nonexistent"), free_port(), tmp_path)
    store = s3_store(dead, "x")
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable) as caught:
        asyncio.run(store.put_bytes("k/1", b"x"))
    assert caught.value.code == "storage.unavailable" and caught.value.retry_after > 0
    with pytest.raises(ServiceUnavailable):
        asyncio.run(store.get_bytes("k/1"))
    with pytest.raises(ServiceUnavailable):
        asyncio.run(store.size("k/1"))
    assert time.monotonic() - started < 15
