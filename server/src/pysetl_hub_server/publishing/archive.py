"""Safe inspection of uploaded wheels and sdists.

Nothing is ever extracted to disk; members are read in bounded chunks, and every structural
rule (paths, links, duplicates, member count, uncompressed size, compression methods, wheel
RECORD) is checked before the metadata is trusted.
"""

from __future__ import annotations

import base64
import configparser
import csv
import hashlib
import io
import posixpath
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from pysetl_hub_server.errors import InvalidUpload
from pysetl_hub_server.i18n.messages import Message, _
from pysetl_hub_server.publishing.zipframe import check_zip_framing
from pysetl_hub_server.settings import UploadLimits
from pysetl_hub_server.units import human_size

READ_CHUNK = 256 * 1024
MAX_METADATA_BYTES = 4 * 1024 * 1024
# What zipfile raises on bytes it cannot read: a bad CRC or header (BadZipFile), a broken
# deflate stream (zlib.error), a short member (EOFError), an encrypted member (RuntimeError), a
# feature it lacks (NotImplementedError, a RuntimeError) and a UTF-8-flagged name that is not
# UTF-8 (UnicodeDecodeError, a ValueError).
_UNREADABLE_ZIP = (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError, ValueError)


@dataclass(frozen=True, slots=True)
class ArchiveContents:
    """What publishing needs from inside an archive."""

    metadata: bytes  # METADATA (wheel) or PKG-INFO (sdist), raw
    entry_points: dict[str, dict[str, str]]  # group -> name -> value
    wheel: bytes = b""  # a wheel's .dist-info/WHEEL, raw; empty for an sdist


def bad(code: str, detail: Message) -> InvalidUpload:
    return InvalidUpload(f"archive.{code}", detail)


def check_member_path(name: str) -> str:
    """Reject absolute paths, drive letters, backslashes and `..` segments."""
    if not name or "\x00" in name:
        raise bad("path", _("an archive member has an empty name or a NUL byte"))
    if name.startswith("/") or "\\" in name or (len(name) > 1 and name[1] == ":"):
        raise bad(
            "path",
            _(
                "archive member {name!r} has an absolute or Windows path: members must be "
                "relative POSIX paths; rebuild with a standard build backend",
                name=name,
            ),
        )
    parts = name.rstrip("/").split("/")
    if any(p == ".." for p in parts):
        raise bad(
            "path",
            _(
                "archive member {name!r} escapes the archive with '..': rebuild the archive",
                name=name,
            ),
        )
    return posixpath.normpath(name.rstrip("/"))


class Budget:
    """Counts members and uncompressed bytes against the limits (bomb protection)."""

    def __init__(self, limits: UploadLimits, compressed_size: int) -> None:
        self.limits = limits
        self.members = 0
        self.bytes = 0
        self.compressed = max(compressed_size, 1)

    def member(self) -> None:
        self.members += 1
        if self.members > self.limits.max_archive_members:
            raise bad(
                "too_many_members",
                _(
                    "the archive has more than {max_archive_members} members",
                    max_archive_members=self.limits.max_archive_members,
                ),
            )

    def consume(self, n: int) -> None:
        self.bytes += n
        if self.bytes > self.limits.max_uncompressed_size:
            raise bad(
                "too_large_uncompressed",
                _(
                    "the archive expands to more than {max_uncompressed_size} (a decompression "
                    "bomb?)",
                    max_uncompressed_size=human_size(self.limits.max_uncompressed_size),
                ),
            )
        if (
            self.bytes > self.limits.bomb_floor
            and self.bytes > self.limits.bomb_ratio * self.compressed
        ):
            raise bad(
                "bomb",
                _(
                    "the archive expands past {bomb_floor} and more than {bomb_ratio} times its"
                    " own size of {compressed}: a decompression bomb; publish real files, "
                    "compressed normally",
                    bomb_floor=human_size(self.limits.bomb_floor),
                    bomb_ratio=self.limits.bomb_ratio,
                    compressed=human_size(self.compressed),
                ),
            )


def read_bounded(
    handle: IO[bytes], budget: Budget, *, keep: bool, digest: bool
) -> tuple[bytes, str, int]:
    data = bytearray()
    sha = hashlib.sha256()
    total = 0
    while chunk := handle.read(READ_CHUNK):
        budget.consume(len(chunk))
        total += len(chunk)
        if digest:
            sha.update(chunk)
        if keep:
            if len(data) + len(chunk) > MAX_METADATA_BYTES:
                raise bad("metadata_too_large", _("a metadata file in the archive exceeds 4 MiB"))
            data += chunk
    b64 = base64.urlsafe_b64encode(sha.digest()).rstrip(b"=").decode() if digest else ""
    return bytes(data), b64, total


def parse_entry_points(text: str) -> dict[str, dict[str, str]]:
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        raise bad("entry_points", _("entry_points.txt does not parse: {exc}", exc=exc)) from exc
    return {section: dict(parser.items(section)) for section in parser.sections()}


# ---------------------------------------------------------------------------------------------
# Wheels


def inspect_wheel(path: Path, limits: UploadLimits, dist_info_stem: str) -> ArchiveContents:
    """Check a wheel's structure and return its METADATA and entry points.

    `dist_info_stem` is `<name>-<version>` as the filename gives it; the .dist-info
    directory must match it (name normalized, version equal).
    """
    check_zip_framing(path)  # on the raw bytes, before zipfile's forgiving reader
    try:
        zf = zipfile.ZipFile(path)
    except _UNREADABLE_ZIP as exc:
        raise bad("corrupt", _("the wheel is not a readable zip file: {exc}", exc=exc)) from exc
    with zf:
        budget = Budget(limits, path.stat().st_size)
        seen: set[str] = set()
        files: list[zipfile.ZipInfo] = []
        for info in zf.infolist():
            budget.member()
            name = check_member_path(info.filename)
            if name in seen:
                raise bad(
                    "duplicate",
                    _("archive member {name!r} appears twice: rebuild the wheel", name=name),
                )
            seen.add(name)
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise bad(
                    "compression",
                    _(
                        "archive member {name!r} uses compression method {compress_type}: "
                        "wheels may use only stored or deflated members",
                        name=name,
                        compress_type=info.compress_type,
                    ),
                )
            mode = info.external_attr >> 16
            kind = stat.S_IFMT(mode)
            if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
                raise bad(
                    "link",
                    _(
                        "archive member {name!r} is a symlink or special file: wheels may hold "
                        "only regular files",
                        name=name,
                    ),
                )
            if info.is_dir():
                continue
            if info.file_size > limits.max_uncompressed_size:
                raise bad(
                    "too_large_uncompressed",
                    _(
                        "member {name!r} declares {file_size} bytes uncompressed",
                        name=name,
                        file_size=info.file_size,
                    ),
                )
            files.append(info)

        dist_infos = {n.split("/", 1)[0] for n in seen if n.split("/", 1)[0].endswith(".dist-info")}
        if len(dist_infos) != 1:
            raise bad(
                "dist_info",
                _(
                    "a wheel needs exactly one top-level .dist-info directory, found "
                    "{dist_infos_count}: {dist_infos}",
                    dist_infos_count=len(dist_infos),
                    dist_infos=sorted(dist_infos),
                ),
            )
        dist_info = dist_infos.pop()
        if not stem_matches(dist_info.removesuffix(".dist-info"), dist_info_stem):
            raise bad(
                "dist_info",
                _(
                    "the wheel's {dist_info!r} does not match its filename ({dist_info_stem}): "
                    "rebuild it instead of renaming the file",
                    dist_info=dist_info,
                    dist_info_stem=dist_info_stem,
                ),
            )
        for required in ("METADATA", "WHEEL", "RECORD"):
            if f"{dist_info}/{required}" not in seen:
                raise bad(
                    "dist_info",
                    _(
                        "{dist_info}/{required} is missing: a wheel needs METADATA, WHEEL and "
                        "RECORD",
                        dist_info=dist_info,
                        required=required,
                    ),
                )

        record_name = f"{dist_info}/RECORD"
        signatures = {f"{dist_info}/RECORD.jws", f"{dist_info}/RECORD.p7s"}
        try:
            with zf.open(record_name) as handle:
                raw_record, _digest, _size = read_bounded(handle, budget, keep=True, digest=False)
        except _UNREADABLE_ZIP as exc:
            raise bad(
                "corrupt",
                _("member {record_name!r} cannot be read: {exc}", record_name=record_name, exc=exc),
            ) from exc
        record = _parse_record(raw_record)

        metadata = b""
        wheel_file = b""
        entry_points_text = ""
        listed = set(record)
        for info in files:
            name = posixpath.normpath(info.filename)
            if name == record_name or name in signatures:
                continue
            entry = record.get(name)
            if entry is None:
                raise bad(
                    "record",
                    _("{name!r} is in the wheel but not in RECORD: rebuild the wheel", name=name),
                )
            keep = name in (
                f"{dist_info}/METADATA",
                f"{dist_info}/entry_points.txt",
                f"{dist_info}/WHEEL",
            )
            try:
                with zf.open(info) as handle:
                    data, digest, size = read_bounded(handle, budget, keep=keep, digest=True)
            except _UNREADABLE_ZIP as exc:
                raise bad(
                    "corrupt", _("member {name!r} cannot be read: {exc}", name=name, exc=exc)
                ) from exc
            algo, expected, expected_size = entry
            if algo != "sha256" or digest != expected:
                raise bad(
                    "record",
                    _(
                        "RECORD's hash for {name!r} does not match its contents: rebuild the wheel",
                        name=name,
                    ),
                )
            if expected_size is not None and expected_size != size:
                raise bad(
                    "record", _("RECORD's size for {name!r} does not match its contents", name=name)
                )
            if name == f"{dist_info}/METADATA":
                metadata = data
            elif name == f"{dist_info}/WHEEL":
                wheel_file = data
            elif name == f"{dist_info}/entry_points.txt":
                entry_points_text = data.decode("utf-8", "replace")
        missing = listed - {posixpath.normpath(i.filename) for i in files} - {record_name}
        if missing:
            raise bad(
                "record",
                _(
                    "RECORD lists files the wheel does not hold: {missing}",
                    missing=sorted(missing)[:5],
                ),
            )
        return ArchiveContents(metadata, parse_entry_points(entry_points_text), wheel_file)


def _parse_record(raw: bytes) -> dict[str, tuple[str, str, int | None]]:
    rows: dict[str, tuple[str, str, int | None]] = {}
    try:
        reader = csv.reader(io.StringIO(raw.decode("utf-8")))
        for row in reader:
            if not row:
                continue
            if len(row) != 3:
                raise bad("record", _("RECORD row {row!r} does not have 3 columns", row=row))
            path, hash_, size = row
            name = check_member_path(path)
            if not hash_:
                rows[name] = ("", "", None)
                continue
            algo, _sep, value = hash_.partition("=")
            rows[name] = (algo, value, int(size) if size else None)
    except (UnicodeDecodeError, ValueError, csv.Error) as exc:
        raise bad("record", _("RECORD does not parse: {exc}", exc=exc)) from exc
    return rows


def stem_matches(found: str, expected: str) -> bool:
    from packaging.utils import canonicalize_name
    from packaging.version import InvalidVersion, Version

    f_name, _sep, f_version = found.rpartition("-")
    e_name, _sep, e_version = expected.rpartition("-")
    try:
        return canonicalize_name(f_name) == canonicalize_name(e_name) and Version(
            f_version
        ) == Version(e_version)
    except InvalidVersion:
        return False


# ---------------------------------------------------------------------------------------------
# Source distributions
