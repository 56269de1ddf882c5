"""What a backup directory holds, and the one error every step of backup and restore raises.

backup.json    the header: format, hub version, Alembic revision, dialect, serial, time,
               and the SHA-256 of the dump and of the manifest (written last)
database.*     the dump: an SQLite file, or a pg_dump custom-format archive
blobs.jsonl    the manifest: one JSON object per referenced blob (key, sha256, size, kind)
blobs/         a copy of those blobs, keyed as in the store (local stores, --blobs)
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from pysetl_hub_server.storage.blobs import blob_key

FORMAT = 1
HEADER = "backup.json"
MANIFEST = "blobs.jsonl"
BLOBS = "blobs"
DUMPS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
CHUNK = 1024 * 1024
DIGEST = re.compile(r"[0-9a-f]{64}")


class BackupError(Exception):
    """A backup or restore that cannot go on; the message names the thing, the rule and the
    fix, and the command exits non-zero with it."""


@dataclass(frozen=True, slots=True)
class Blob:
    """One blob the database references: a distribution file or its PEP 658 metadata."""

    key: str
    sha256: str
    size: int
    kind: str  # "file" | "metadata"
    filename: str  # the distribution file it belongs to

    def line(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


@dataclass(frozen=True, slots=True)
class Header:
    format: int
    hub_version: str
    alembic_revision: str
    dialect: str
    serial: int
    created: str
    database: str
    database_sha256: str
    database_size: int
    manifest_sha256: str
    blob_count: int
    blob_bytes: int
    blobs_copied: bool


def write_header(directory: Path, header: Header) -> None:
    text = json.dumps(asdict(header), indent=2, sort_keys=True) + "\n"
    (directory / HEADER).write_text(text, encoding="utf-8")


def read_header(directory: Path) -> Header:
    path = directory / HEADER
    try:
        raw: object = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BackupError(
            f"{path} does not exist: {directory} is not a complete backup (a backup gets its "
            "header last); name a directory `pysetl-hub-server backup` wrote"
        ) from exc
    except (OSError, ValueError) as exc:
        raise BackupError(f"{path} is not a readable backup header ({exc})") from exc
    if not isinstance(raw, dict):
        raise BackupError(
            f"{path} is not a backup header (a JSON object), but a JSON "
            f"{type(raw).__name__}: use another backup"
        )
    if raw.get("format") != FORMAT:
        raise BackupError(
            f"{path} has backup format {raw.get('format')!r}; this hub reads format {FORMAT}: "
            "restore it with the hub version that wrote it"
        )
    try:
        return Header(**raw)
    except TypeError as exc:
        raise BackupError(f"{path} is missing fields of a backup header ({exc})") from exc


def write_manifest(path: Path, blobs: list[Blob]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for blob in blobs:
            out.write(blob.line() + "\n")


def read_manifest(path: Path) -> list[Blob]:
    found = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            try:
                blob = Blob(**json.loads(line))
                _check_types(blob)
            except (TypeError, ValueError) as exc:
                raise BackupError(f"{path} line {number} is not a blob entry ({exc})") from exc
            if not DIGEST.fullmatch(blob.sha256) or blob.key != blob_key(blob.sha256):
                raise BackupError(
                    f"{path} line {number}: key {blob.key!r} is not the content address of "
                    f"sha256 {blob.sha256!r}: the manifest was edited; use another backup"
                )
            found.append(blob)
    return found


def _check_types(blob: Blob) -> None:
    """JSON gives any type; a blob entry has strings and a whole size."""
    for name in ("key", "sha256", "kind", "filename"):
        if not isinstance(getattr(blob, name), str):
            raise TypeError(f"{name} is {getattr(blob, name)!r}, not a string")
    if not isinstance(blob.size, int) or isinstance(blob.size, bool):
        raise TypeError(f"size is {blob.size!r}, not a whole number")


def file_sha256(path: Path) -> tuple[str, int]:
    """SHA-256 and size of a file, read in chunks."""
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as src:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size
