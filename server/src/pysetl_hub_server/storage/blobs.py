"""Content-addressed blob storage behind one small interface.

Keys are derived from the SHA-256 of the bytes, so a write is idempotent and a blob never
changes once written. `LocalBlobStore` is the default (a directory, written to a claimed temp
file, fsynced and renamed into place; a write that fails, for a full disk or any other reason,
removes its temp file); `ObjectStoreBlobStore` speaks to S3, GCS, Azure or memory through
obstore. Both pass the same conformance suite (tests/server/storage).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol, runtime_checkable
from urllib.parse import urlparse
from urllib.request import url2pathname

from pysetl_hub_server.storage.sweep import claim

CHUNK = 1024 * 1024


def blob_key(sha256: str) -> str:
    """Fan out by digest prefix so no directory (or listing) grows too large."""
    return f"sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}"


class BlobNotFound(KeyError):
    """No blob is stored under the key."""


@runtime_checkable
class BlobStore(Protocol):
    """What the registry needs from blob storage, and nothing more."""

    url: str

    async def put_file(self, key: str, source: Path) -> None:
        """Store a file's bytes under `key`, atomically: readers see all or nothing."""

    async def put_bytes(self, key: str, data: bytes) -> None:
        """Store bytes under `key`, atomically."""

    async def get_bytes(self, key: str) -> bytes:
        """Read a whole blob (small blobs: metadata files, cached wheels)."""

    def stream(self, key: str) -> AsyncIterator[bytes]:
        """Read a blob in chunks without holding it in memory."""

    async def size(self, key: str) -> int | None:
        """Size in bytes, or None when absent."""

    async def delete(self, key: str) -> None:
        """Remove a blob; absent is not an error."""

    def local_path(self, key: str) -> Path | None:
        """A filesystem path for zero-copy serving, when the store has one."""

    def temp_dir(self) -> Path | None:
        """Where half-written blobs live until renamed into place (None: the store has none)."""


class LocalBlobStore:
    """Blobs in a local directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = root.as_uri()
        self._tmp = root / ".tmp"
        self._tmp.mkdir(parents=True, exist_ok=True)

    def temp_dir(self) -> Path | None:
        return self._tmp

    def _path(self, key: str) -> Path:
        if key.startswith("/") or ".." in key.split("/"):
            raise ValueError(f"invalid blob key {key!r}")
        return self.root / key

    def _write_atomic(self, key: str, write: WriteFn) -> None:
        target = self._path(key)
        if target.exists():
            return  # content-addressed: the same key always holds the same bytes
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = claim(self._tmp)  # held until renamed: a start-up sweep leaves it alone
        try:
            with os.fdopen(fd, "wb") as out:
                write(out)
                out.flush()
                os.fsync(out.fileno())
                os.replace(tmp, target)
            dir_fd = os.open(target.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    async def put_file(self, key: str, source: Path) -> None:
        def copy(out: BinaryOut) -> None:
            with source.open("rb") as src:
                while chunk := src.read(CHUNK):
                    out.write(chunk)

        await asyncio.to_thread(self._write_atomic, key, copy)

    async def put_bytes(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._write_atomic, key, lambda out: out.write(data))

    async def get_bytes(self, key: str) -> bytes:
        try:
            return await asyncio.to_thread(self._path(key).read_bytes)
        except FileNotFoundError as exc:
            raise BlobNotFound(key) from exc

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        try:
            handle = await asyncio.to_thread(self._path(key).open, "rb")
        except FileNotFoundError as exc:
            raise BlobNotFound(key) from exc
        try:
            while chunk := await asyncio.to_thread(handle.read, CHUNK):
                yield chunk
        finally:
            handle.close()

    async def size(self, key: str) -> int | None:
        try:
            return (await asyncio.to_thread(self._path(key).stat)).st_size
        except FileNotFoundError:
            return None

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, True)

    def local_path(self, key: str) -> Path | None:
        path = self._path(key)
        return path if path.exists() else None


class ObjectStoreBlobStore:
    """Blobs in any store obstore supports: `s3://`, `gs://`, `az://`, `memory://`."""

    def __init__(self, url: str) -> None:
        from obstore.store import from_url

        self.url = url
        # Credentials and endpoints come from the standard AWS_/GOOGLE_/AZURE_ variables.
        self._store = from_url(url)

    async def put_file(self, key: str, source: Path) -> None:
        import obstore

        # One PUT (or multipart upload) makes the object visible whole, never partly.
        await obstore.put_async(self._store, key, source)

    async def put_bytes(self, key: str, data: bytes) -> None:
        import obstore

        await obstore.put_async(self._store, key, data)

    async def get_bytes(self, key: str) -> bytes:
        import obstore

        try:
            result = await obstore.get_async(self._store, key)
            return bytes(await result.bytes_async())
        except FileNotFoundError as exc:
            raise BlobNotFound(key) from exc

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        import obstore

        try:
            result = await obstore.get_async(self._store, key)
        except FileNotFoundError as exc:
            raise BlobNotFound(key) from exc
        async for chunk in result.stream(min_chunk_size=CHUNK):
            yield bytes(chunk)

    async def size(self, key: str) -> int | None:
        import obstore

        try:
            meta = await obstore.head_async(self._store, key)
        except FileNotFoundError:
            return None
        return int(meta["size"])

    async def delete(self, key: str) -> None:
        import obstore

        try:
            await obstore.delete_async(self._store, key)
        except FileNotFoundError:
            return

    def local_path(self, key: str) -> Path | None:
        return None

    def temp_dir(self) -> Path | None:
        return None  # multipart uploads to object stores leave nothing visible half-written


class BinaryOut(Protocol):
    def write(self, data: bytes, /) -> int: ...


class WriteFn(Protocol):
    def __call__(self, out: BinaryOut, /) -> object: ...


def open_blob_store(url: str) -> BlobStore:
    """Pick the implementation from the URL scheme: `file://` is the local directory."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return LocalBlobStore(Path(url2pathname(parsed.path)))
    if parsed.scheme in {"s3", "gs", "az", "abfs", "memory", "http", "https"}:
        return ObjectStoreBlobStore(url)
    raise ValueError(
        f"unsupported storage URL {url!r}: use file:///path, s3://bucket/prefix, gs://, az:// "
        "or memory:///"
    )
