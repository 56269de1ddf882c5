"""Conformance suite: every blob store implementation that can run here passes the same tests.

S3/GCS/Azure are obstore's remote backends; they need a real endpoint, which these machines
do not have, so the obstore implementation is exercised through its in-memory backend.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest

from pysetl_hub_server.storage.blobs import (
    BlobNotFound,
    BlobStore,
    LocalBlobStore,
    ObjectStoreBlobStore,
    blob_key,
    open_blob_store,
)


@pytest.fixture(params=["local", "obstore-memory", "obstore-local"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return LocalBlobStore(tmp_path / "blobs")
    if request.param == "obstore-memory":
        return ObjectStoreBlobStore("memory:///")
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
