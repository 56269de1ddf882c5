"""Content-addressed blob storage behind one small interface.

Keys are derived from the SHA-256 of the bytes, so a write is idempotent and a blob never
changes once written. `LocalBlobStore` is the default (a directory, written to a claimed temp
file, fsynced and renamed into place; a write that fails, for a full disk or any other reason,
removes its temp file); `ObjectStoreBlobStore` speaks to S3, GCS, Azure or memory through
obstore. Both pass the same conformance suite (tests/server/storage, S3 over moto's server).

An object store that cannot be reached (refused, timed out, refusing our credentials) is an
outage, not a bug: it becomes 503 `storage.unavailable` with Retry-After, after a few quick
retries, never a 500 after obstore's default three minutes of them.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable
from urllib.parse import urlparse
from urllib.request import url2pathname

from pysetl_hub_server.errors import ServiceUnavailable
from pysetl_hub_server.i18n.messages import _
from pysetl_hub_server.settings import Settings
from pysetl_hub_server.storage.sweep import claim

CHUNK = 1024 * 1024
# Seconds a client should wait after the object store failed to answer.
RETRY_UNAVAILABLE = 10
# Schemes whose stores can presign a download URL (obstore's SignCapableStore).
_SIGNING = frozenset({"s3", "gs", "az", "abfs"})

log = logging.getLogger(__name__)
T = TypeVar("T")


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

    async def presigned_url(self, key: str, seconds: int) -> str | None:
        """A URL that downloads the blob straight from the store for `seconds`, or None when
        the store cannot sign one (then the hub streams the bytes itself)."""


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

    async def presigned_url(self, key: str, seconds: int) -> str | None:
        return None  # the hub serves its own directory


@dataclass(frozen=True, slots=True)
class S3Access:
    """Where an S3-compatible store is and how to sign for it (the PYSETL_HUB_STORAGE_*
    settings); unset fields fall back to obstore's own AWS_* variables and defaults."""

    endpoint: str | None = None
    region: str | None = None
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)

    def config(self) -> dict[str, Any]:
        """obstore's S3 config. A custom endpoint (MinIO, moto) is addressed path-style
        (`endpoint/bucket/key`): they serve no per-bucket host names."""
        config: dict[str, Any] = {}
        if self.endpoint:
            config["endpoint"] = self.endpoint.rstrip("/")
            config["virtual_hosted_style_request"] = False
        if self.region:
            config["region"] = self.region
        if self.access_key_id:
            config["access_key_id"] = self.access_key_id
        if self.secret_access_key:
            config["secret_access_key"] = self.secret_access_key
        return config

    @property
    def allow_http(self) -> bool:
        """Plain http only when the operator named a plain-http endpoint."""
        return bool(self.endpoint and self.endpoint.lower().startswith("http://"))


def unavailable() -> ServiceUnavailable:
    return ServiceUnavailable(
        "storage.unavailable",
        _(
            "the file storage is unavailable, so this request could not be completed and "
            "changed nothing; retry after {seconds} seconds (operators: check that the object "
            "store named by the storage URL is running, reachable and accepts the hub's "
            "credentials)",
            seconds=RETRY_UNAVAILABLE,
        ),
        retry_after=RETRY_UNAVAILABLE,
    )


async def _guarded(call: Awaitable[T], key: str) -> T:
    """Await an obstore call; its failures other than "not found" are the store's outage."""
    from obstore.exceptions import BaseError

    try:
        return await call
    except FileNotFoundError:
        raise
    except BaseError as exc:
        log.error("object store failed on %s: %s", key, exc)
        raise unavailable() from exc


class ObjectStoreBlobStore:
    """Blobs in any store obstore supports: `s3://`, `gs://`, `az://`, `memory://`."""

    def __init__(self, url: str, s3: S3Access | None = None) -> None:
        from obstore.store import from_url

        self.url = url
        scheme = urlparse(url).scheme
        self._signs = scheme in _SIGNING
        options: dict[str, Any] = {}
        if scheme not in {"memory", "file"}:
            # A store that is down answers in seconds (then 503), not after obstore's default
            # of ten retries over three minutes.
            options["client_options"] = {
                "connect_timeout": timedelta(seconds=5),
                "timeout": timedelta(seconds=120),
                "allow_http": s3 is not None and s3.allow_http,
            }
            options["retry_config"] = {
                "max_retries": 2,
                "retry_timeout": timedelta(seconds=10),
                "backoff": {"init_backoff": timedelta(milliseconds=100), "base": 2},
            }
        if scheme in {"s3", "s3a"} and s3 is not None:
            options["config"] = s3.config()
        # Whatever is not given here comes from the standard AWS_/GOOGLE_/AZURE_ variables.
        self._store = from_url(url, **options)

    async def put_file(self, key: str, source: Path) -> None:
        import obstore

        # One PUT (or multipart upload) makes the object visible whole, never partly.
        await _guarded(obstore.put_async(self._store, key, source), key)

    async def put_bytes(self, key: str, data: bytes) -> None:
        import obstore

        await _guarded(obstore.put_async(self._store, key, data), key)

    async def get_bytes(self, key: str) -> bytes:
        import obstore

        try:
            result = await _guarded(obstore.get_async(self._store, key), key)
            return bytes(await _guarded(result.bytes_async(), key))
        except FileNotFoundError as exc:
            raise BlobNotFound(key) from exc

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        import obstore

        try:
            result = await _guarded(obstore.get_async(self._store, key), key)
        except FileNotFoundError as exc:
            raise BlobNotFound(key) from exc
        from obstore.exceptions import BaseError

        try:
            async for chunk in result.stream(min_chunk_size=CHUNK):
                yield bytes(chunk)
        except BaseError as exc:  # the connection dropped mid-body: an outage, like the GET's
            log.error("object store failed while reading %s: %s", key, exc)
            raise unavailable() from exc

    async def size(self, key: str) -> int | None:
        import obstore

        try:
            meta = await _guarded(obstore.head_async(self._store, key), key)
        except FileNotFoundError:
            return None
        return int(meta["size"])

    async def delete(self, key: str) -> None:
        import obstore

        try:
            await _guarded(obstore.delete_async(self._store, key), key)
        except FileNotFoundError:
            return

    def local_path(self, key: str) -> Path | None:
        return None

    def temp_dir(self) -> Path | None:
        return None  # multipart uploads to object stores leave nothing visible half-written

    async def presigned_url(self, key: str, seconds: int) -> str | None:
        """Signing is local (no request to the store): a GET URL valid for `seconds`."""
        if not self._signs or seconds <= 0:
            return None
        import obstore

        store: Any = self._store  # a SignCapableStore: checked by scheme above
        url: str = await _guarded(
            obstore.sign_async(store, "GET", key, timedelta(seconds=seconds)), key
        )
        return url


class BinaryOut(Protocol):
    def write(self, data: bytes, /) -> int: ...


class WriteFn(Protocol):
    def __call__(self, out: BinaryOut, /) -> object: ...


def open_blob_store(url: str, s3: S3Access | None = None) -> BlobStore:
    """Pick the implementation from the URL scheme: `file://` is the local directory; `s3`
    says where an S3-compatible store is and how to sign for it."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return LocalBlobStore(Path(url2pathname(parsed.path)))
    if parsed.scheme in {"s3", "gs", "az", "abfs", "memory", "http", "https"}:
        return ObjectStoreBlobStore(url, s3)
    raise ValueError(
        f"unsupported storage URL {url!r}: use file:///path, s3://bucket/prefix, gs://, az:// "
        "or memory:///"
    )


def open_configured_store(settings: Settings) -> BlobStore:
    """The blob store the settings name, with the S3 endpoint and credentials they give: the
    one way the server and its backup command open it."""
    s3 = S3Access(
        settings.storage_endpoint,
        settings.storage_region,
        settings.storage_access_key_id,
        settings.storage_secret_access_key,
    )
    return open_blob_store(settings.effective_storage_url, s3)
