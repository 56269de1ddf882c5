"""`backup` and `restore` from start to end: each step in order, nothing half-done left looking
complete (a backup is built in a hidden sibling directory and renamed into place; a restore
checks its source and its target before it writes anything)."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from alembic.script import ScriptDirectory
from alembic.util import CommandError

from pysetl_hub_server.backup import database, manifest
from pysetl_hub_server.backup.layout import (
    DUMPS,
    FORMAT,
    HEADER,
    MANIFEST,
    BackupError,
    Header,
    file_sha256,
    read_header,
    read_manifest,
    write_header,
    write_manifest,
)
from pysetl_hub_server.backup.manifest import Progress
from pysetl_hub_server.db.migrate import alembic_config, upgrade
from pysetl_hub_server.settings import Settings
from pysetl_hub_server.storage.blobs import open_configured_store


def open_store(settings: Settings) -> manifest.OpenStore:
    """The one place backup and restore open the configured blob store."""
    return lambda: open_configured_store(settings)


def local_blob_root(storage_url: str) -> Path | None:
    """The directory of a `file://` store; None for an object store."""
    parsed = urlparse(storage_url)
    return Path(url2pathname(parsed.path)) if parsed.scheme == "file" else None


def make_backup(
    settings: Settings,
    dest: Path,
    *,
    copy_blobs: bool | None,
    bindir: Path | None,
    progress: Progress,
) -> Header:
    """Dump the database, list (and copy) its blobs, write the header, rename into `dest`."""
    url, storage = settings.effective_database_url, settings.effective_storage_url
    dialect = database.dialect_of(url)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(
            f"{dest} already exists and is not an empty directory: a backup never overwrites "
            "another; name a new directory (say, one per date)"
        )
    if copy_blobs is None:
        copy_blobs = local_blob_root(storage) is not None
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.partial-", dir=dest.parent))
    try:
        dump_path = work / DUMPS[dialect]
        progress(f"dumping the {dialect} database")
        snapshot = asyncio.run(database.dump(url, dump_path, bindir))
        progress(f"database at serial {snapshot.serial}, {len(snapshot.files)} files")
        blobs = asyncio.run(
            manifest.collect(
                open_store(settings), snapshot.files, work if copy_blobs else None, progress
            )
        )
        write_manifest(work / MANIFEST, blobs)
        dump_sha, dump_size = file_sha256(dump_path)
        header = Header(
            format=FORMAT,
            hub_version=version("pysetl-hub-server"),
            alembic_revision=snapshot.revision,
            dialect=dialect,
            serial=snapshot.serial,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            database=dump_path.name,
            database_sha256=dump_sha,
            database_size=dump_size,
            manifest_sha256=file_sha256(work / MANIFEST)[0],
            blob_count=len(blobs),
            blob_bytes=sum(b.size for b in blobs),
            blobs_copied=copy_blobs,
        )
        write_header(work, header)
        _sync_tree(work)
        if dest.exists():
            dest.rmdir()  # empty, checked above
        os.rename(work, dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return header


def _sync_tree(root: Path) -> None:
    """Flush every file of the backup before it is renamed into place."""
    for path in [root, *root.rglob("*")]:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def restore_backup(
    settings: Settings, source: Path, *, bindir: Path | None, progress: Progress
) -> Header:
    """Check the backup and the target, load the dump, copy the blobs, reconcile, upgrade."""
    url, storage = settings.effective_database_url, settings.effective_storage_url
    header = read_header(source)
    _check_source(source, header, url)
    blobs = read_manifest(source / MANIFEST)
    if header.blobs_copied:
        progress(f"checking {len(blobs)} blobs in the backup")
        if problems := manifest.check_copies(source, blobs):
            raise manifest.fail(
                f"the backup {source} does not match its manifest; nothing was restored",
                problems,
                "restore from another backup (a copy of this one may be intact)",
            )
    # A backup that carries its blobs goes into a fresh directory; one that only lists them
    # (an object store's) is checked against the store that still holds them.
    root = local_blob_root(storage)
    if header.blobs_copied and root is not None and _holds_blobs(root):
        raise BackupError(
            f"the target blob directory {root} already holds blobs: a restore only goes into "
            "a fresh data directory; name an empty --data-dir, or move this one away first"
        )
    asyncio.run(database.ensure_empty(url))
    if not header.blobs_copied:
        progress(f"checking {len(blobs)} blobs in {storage}")
        if problems := asyncio.run(manifest.check_store(open_store(settings), blobs)):
            raise manifest.fail(
                f"the blob store {storage} does not hold what the backup lists; nothing was "
                "restored",
                problems,
                "restore with PYSETL_HUB_STORAGE_URL naming the store the backup was taken "
                "of, or put the missing blobs back (the store's own versions)",
            )
    progress(f"loading the {header.dialect} database (serial {header.serial})")
    asyncio.run(database.load(url, source / header.database, bindir))
    if header.blobs_copied:
        progress(f"copying {len(blobs)} blobs into {storage}")
        asyncio.run(manifest.copy_into(open_store(settings), source, blobs, progress))
    progress("reconciling every blob hash")
    restored = asyncio.run(database.read(url))
    problems = asyncio.run(manifest.reconcile(open_store(settings), blobs, restored.files))
    if restored.serial != header.serial:
        problems.append(f"the restored serial is {restored.serial}, the backup's {header.serial}")
    if problems:
        raise manifest.fail(
            f"the database is restored into {database.shown(url)}, but it does not reconcile "
            f"with {storage}",
            problems,
            "put the missing blobs back into the store (its versions, or another backup), or "
            "empty the target again and restore a complete backup",
        )
    upgrade(url)
    return header


def _check_source(source: Path, header: Header, url: str) -> None:
    """The dump and manifest are the ones the header describes, the dialect is the target's,
    and the revision is one this code can upgrade from."""
    target = database.dialect_of(url)
    if header.dialect != target:
        raise BackupError(
            f"the backup {source} is of a {header.dialect} database and the target is "
            f"{target}: a backup restores into the dialect it came from"
        )
    if header.database != DUMPS[header.dialect]:
        raise BackupError(
            f"{source / HEADER} names the dump {header.database!r}; a {header.dialect} backup's "
            f"dump is {DUMPS[header.dialect]!r}: the header was edited; use another backup"
        )
    for name, expected in (
        (header.database, header.database_sha256),
        (MANIFEST, header.manifest_sha256),
    ):
        path = source / name
        if not path.is_file():
            raise BackupError(f"{path} is missing: the backup is incomplete; use another one")
        if file_sha256(path)[0] != expected:
            raise BackupError(
                f"{path} does not match the sha256 its header records: the backup is corrupt; "
                "use another one"
            )
    scripts = ScriptDirectory.from_config(alembic_config(url))
    try:
        known = scripts.get_revision(header.alembic_revision) is not None
    except CommandError:
        known = False
    if not known:
        raise BackupError(
            f"the backup is at schema revision {header.alembic_revision!r}, which this hub "
            f"(pysetl-hub-server {version('pysetl-hub-server')}) does not know: restore with "
            f"the hub version that wrote it ({header.hub_version}) or a newer one"
        )


def _holds_blobs(root: Path) -> bool:
    """Any file outside the store's temp directory (a fresh data dir has none)."""
    return root.is_dir() and any(
        p.is_file() and p.relative_to(root).parts[0] != ".tmp" for p in root.rglob("*")
    )
