"""The blob half: the manifest of every blob the database references, the copy of those blobs,
and the checks that recompute each hash (in a backup before a restore touches anything, and in
the target store after it)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

from pysetl_hub_server.backup.database import FileRow
from pysetl_hub_server.backup.layout import BLOBS, BackupError, Blob, file_sha256
from pysetl_hub_server.storage.blobs import BlobNotFound, BlobStore, blob_key

Progress = Callable[[str], None]
# Opens the configured blob store; called inside the event loop that will use the store.
OpenStore = Callable[[], BlobStore]
# How many problems a message lists before it only counts the rest.
SHOWN = 20


def wanted(files: list[FileRow]) -> list[Blob]:
    """The blobs the file rows reference, once each (sizes of metadata blobs still unknown: -1)."""
    found: dict[str, Blob] = {}
    for row in files:
        key = blob_key(row.sha256)
        found.setdefault(key, Blob(key, row.sha256, row.size, "file", row.filename))
        if row.metadata_sha256:
            key = blob_key(row.metadata_sha256)
            found.setdefault(key, Blob(key, row.metadata_sha256, -1, "metadata", row.filename))
    return list(found.values())


def fail(what: str, problems: list[str], fix: str) -> BackupError:
    listed = problems[:SHOWN]
    more = f"\n  ... and {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
    lines = "".join(f"\n  {p}" for p in listed)
    return BackupError(f"{what}: {len(problems)} problem(s){lines}{more}\n{fix}")


async def _hash_stored(store: BlobStore, key: str, out: Path | None) -> tuple[str, int] | None:
    """SHA-256 and size of a stored blob (written to `out` on the way), None when absent."""
    digest, size = hashlib.sha256(), 0
    handle = None
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        handle = out.open("wb")
    try:
        async for chunk in store.stream(key):
            digest.update(chunk)
            size += len(chunk)
            if handle is not None:
                handle.write(chunk)
    except BlobNotFound:
        return None
    finally:
        if handle is not None:
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
    return digest.hexdigest(), size


def _judge(blob: Blob, seen: tuple[str, int] | None, where: str) -> str | None:
    """What is wrong with a blob found as `seen` (hash, size), or None."""
    if seen is None:
        return f"{blob.key} ({blob.kind} of {blob.filename}): missing from {where}"
    sha, size = seen
    if sha != blob.sha256 or (blob.size >= 0 and size != blob.size):
        return (
            f"{blob.key} ({blob.kind} of {blob.filename}): corrupt in {where} (sha256 {sha}, "
            f"{size} bytes; expected sha256 {blob.sha256}, {blob.size} bytes)"
        )
    return None


async def collect(
    open_store: OpenStore, files: list[FileRow], copy_to: Path | None, progress: Progress
) -> list[Blob]:
    """The manifest of the blobs `files` reference, each checked against the store: with
    `copy_to`, copied there and hashed on the way; without, its size asked of the store."""
    store = open_store()
    blobs, problems = [], []
    todo = wanted(files)
    for number, blob in enumerate(todo, 1):
        if copy_to is not None:
            seen = await _hash_stored(store, blob.key, copy_to / BLOBS / blob.key)
        else:
            size = await store.size(blob.key)
            seen = None if size is None else (blob.sha256, size)
        problem = _judge(blob, seen, "the store")
        if problem or seen is None:
            problems.append(problem or blob.key)
            continue
        blobs.append(Blob(blob.key, blob.sha256, seen[1], blob.kind, blob.filename))
        if number % 500 == 0:
            progress(f"blobs: {number}/{len(todo)}")
    if problems:
        raise fail(
            "the blob store does not hold what the database references",
            problems,
            "a blob deleted after the database snapshot was taken: run the backup again; a "
            "missing or corrupt blob: restore it from the store's own versions",
        )
    return blobs


def check_copies(source: Path, blobs: list[Blob]) -> list[str]:
    """Problems with the blob copies of a backup, hashes recomputed (before any restore)."""
    problems = []
    for blob in blobs:
        path = source / BLOBS / blob.key
        seen = file_sha256(path) if path.is_file() else None
        if problem := _judge(blob, seen, f"the backup ({source / BLOBS})"):
            problems.append(problem)
    return problems


async def check_store(open_store: OpenStore, blobs: list[Blob]) -> list[str]:
    """Problems with the blobs a manifest-only backup lists, in the store the restore will use,
    found before anything is written: each must be there with its size, and its hash where that
    is cheap (a local directory). The reconcile after the load rehashes every one."""
    store = open_store()
    problems = []
    for blob in blobs:
        seen: tuple[str, int] | None
        if store.local_path(blob.key) is not None:
            seen = await _hash_stored(store, blob.key, None)
        else:
            size = await store.size(blob.key)
            seen = None if size is None else (blob.sha256, size)
        if problem := _judge(blob, seen, "the store"):
            problems.append(problem)
    return problems


async def copy_into(
    open_store: OpenStore, source: Path, blobs: list[Blob], progress: Progress
) -> None:
    store = open_store()
    for number, blob in enumerate(blobs, 1):
        await store.put_file(blob.key, source / BLOBS / blob.key)
        if number % 500 == 0:
            progress(f"blobs copied: {number}/{len(blobs)}")


async def reconcile(open_store: OpenStore, blobs: list[Blob], files: list[FileRow]) -> list[str]:
    """Every manifest entry is in the store with its hash and size (recomputed), and every blob
    the restored database references is in the manifest."""
    store = open_store()
    problems = []
    for blob in blobs:
        if problem := _judge(blob, await _hash_stored(store, blob.key, None), "the store"):
            problems.append(problem)
    listed = {b.key for b in blobs}
    problems.extend(
        f"{b.key} ({b.kind} of {b.filename}): referenced by the restored database but not in "
        "the backup's manifest"
        for b in wanted(files)
        if b.key not in listed
    )
    return problems
