"""Zip64: accepted when well formed, refused when a Zip64 record lies.

The archives are the example wheel's members written with Zip64 records throughout by
tests/support/zip64.py (Python's zipfile writes them only past 4 GiB or 65535 members), and
one zipfile itself writes with 65536 members. Each lie changes one value and nothing else.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from pysetl_hub_server.errors import InvalidUpload
from pysetl_hub_server.publishing.archive import inspect_wheel
from pysetl_hub_server.publishing.zipframe import check_zip_framing
from pysetl_hub_server.settings import UploadLimits
from tests.support import zipedit
from tests.support.dists import read_wheel
from tests.support.live import LiveServer
from tests.support.upload import upload
from tests.support.zip64 import MAX16, MAX32, Zip64Spots, get_u64, put_u64, write_zip64

WHEEL = "csv-dedupe:wheel"
JSON = {"Accept": "application/vnd.pypi.simple.v1+json"}


@pytest.fixture(scope="module")
def members(example_dists: dict[str, Path]) -> list[tuple[str, bytes]]:
    return list(read_wheel(example_dists[WHEEL]).items())


@pytest.fixture(scope="module")
def zip64_wheel(members: list[tuple[str, bytes]]) -> tuple[bytes, Zip64Spots]:
    return write_zip64(members)


def _write(tmp_path: Path, data: bytes, name: str = "csv_dedupe-1.0.0-py3-none-any.whl") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_zipfile_reads_what_the_writer_writes(
    zip64_wheel: tuple[bytes, Zip64Spots], members: list[tuple[str, bytes]]
) -> None:
    """The fixture is real Zip64: zipfile takes every size and offset from the Zip64 fields."""
    data, spots = zip64_wheel
    assert data[spots.zip64_end_at : spots.zip64_end_at + 4] == b"PK\x06\x06"
    assert data[spots.locator_at : spots.locator_at + 4] == b"PK\x06\x07"
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.testzip() is None
        assert [(i.filename, zf.read(i)) for i in zf.infolist()] == members
        lay = zipedit.layout(data)
        for i, info in enumerate(zf.infolist()):
            assert zipedit.get_field(data, lay, "central", "local_offset", i) == MAX32
            assert zipedit.get_field(data, lay, "central", "compressed_size", i) == MAX32
            assert info.header_offset == get_u64(data, spots.central_extra[i][2])
            assert info.compress_size == get_u64(data, spots.central_extra[i][1])
            assert info.file_size == get_u64(data, spots.central_extra[i][0]) == len(members[i][1])


def test_a_well_formed_zip64_wheel_is_accepted(
    zip64_wheel: tuple[bytes, Zip64Spots], tmp_path: Path
) -> None:
    path = _write(tmp_path, zip64_wheel[0])
    check_zip_framing(path)
    contents = inspect_wheel(path, UploadLimits(), "csv_dedupe-1.0.0")
    assert contents.entry_points["pysetl.factories"] == {"CsvDedupe": "csv_dedupe:CsvDedupe"}


def test_a_zip64_wheel_is_published_and_served_byte_for_byte(
    live: LiveServer, http: httpx.Client, zip64_wheel: tuple[bytes, Zip64Spots], tmp_path: Path
) -> None:
    path = _write(tmp_path, zip64_wheel[0])
    r = upload(http, live.user_with_token("alice"), path)
    assert r.status_code == 200, r.text
    (served,) = http.get("/simple/csv-dedupe/", headers=JSON).json()["files"]
    assert served["hashes"]["sha256"] == hashlib.sha256(zip64_wheel[0]).hexdigest()
    assert http.get(served["url"]).content == zip64_wheel[0]


def test_zipfile_own_zip64_end_record_is_accepted(tmp_path: Path) -> None:
    """Past 65535 members zipfile writes the Zip64 end record and locator, and keeps the real
    directory size and offset in the 32-bit record (they fit): both agree, so it passes."""
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for i in range(0x10000):
            zf.writestr(f"m/{i:x}", b"")
    data = path.read_bytes()
    assert data[-42:-38] == b"PK\x06\x07"
    assert zipedit.get_field(data, zipedit.layout(data), "end", "entries_total") == MAX16
    check_zip_framing(path)


def _u64(at: Callable[[Zip64Spots], int], change: Callable[[int], int]) -> Callable[..., bytes]:
    def lie(data: bytes, spots: Zip64Spots) -> bytes:
        where = at(spots)
        return put_u64(data, where, change(get_u64(data, where)))

    return lie


def _field(
    record: str, name: str, value: Callable[[int], int], index: int = 0
) -> Callable[..., bytes]:
    def lie(data: bytes, spots: Zip64Spots) -> bytes:
        lay = zipedit.layout(data)
        return zipedit.set_field(
            data, lay, record, name, value(zipedit.get_field(data, lay, record, name, index)), index
        )

    return lie


def _raw(at: Callable[[Zip64Spots], int], new: bytes) -> Callable[..., bytes]:
    def lie(data: bytes, spots: Zip64Spots) -> bytes:
        where = at(spots)
        return data[:where] + new + data[where + len(new) :]

    return lie


def _extra_header(spots: Zip64Spots, central: bool, i: int = 1) -> int:
    """Where member i's Zip64 extra field starts (its tag), in the central or local header."""
    return (spots.central_extra[i][0] if central else spots.local_extra[i][0]) - 4


LIES: dict[str, Callable[[bytes, Zip64Spots], bytes]] = {
    # the central directory's Zip64 extra field
    "central extra: uncompressed size": _u64(lambda s: s.central_extra[1][0], lambda v: v + 1),
    "central extra: compressed size": _u64(lambda s: s.central_extra[1][1], lambda v: v + 1),
    "central extra: compressed size short": _u64(lambda s: s.central_extra[1][1], lambda v: v - 1),
    "central extra: local header offset": _u64(lambda s: s.central_extra[1][2], lambda v: v + 1),
    "central extra: offset past the file": _u64(lambda s: s.central_extra[1][2], lambda v: 2**63),
    "central extra: missing (tag changed)": _raw(lambda s: _extra_header(s, True), b"\x09\x00"),
    "central extra: shorter than its values": _raw(
        lambda s: _extra_header(s, True) + 2, (16).to_bytes(2, "little")
    ),
    "central extra: longer than its header": _raw(
        lambda s: _extra_header(s, True) + 2, (40).to_bytes(2, "little")
    ),
    # the local header's Zip64 extra field
    "local extra: uncompressed size": _u64(lambda s: s.local_extra[1][0], lambda v: v + 1),
    "local extra: compressed size": _u64(lambda s: s.local_extra[1][1], lambda v: v + 7),
    "local extra: missing (tag changed)": _raw(lambda s: _extra_header(s, False), b"\x09\x00"),
    "local extra: longer than its header": _raw(
        lambda s: _extra_header(s, False) + 2, (24).to_bytes(2, "little")
    ),
    # the locator
    "locator: points 8 bytes early": _u64(lambda s: s.locator_at + 8, lambda v: v - 8),
    "locator: points at the locator": _u64(lambda s: s.locator_at + 8, lambda v: v + 56),
    "locator: points past 2**63": _u64(lambda s: s.locator_at + 8, lambda v: 2**63 + 5),
    "locator: points at 2**64 - 1": _u64(lambda s: s.locator_at + 8, lambda v: 2**64 - 1),
    "locator: disk 1": _field("locator", "disk", lambda v: 1),
    "locator: two disks": _field("locator", "total_disks", lambda v: 2),
    # the Zip64 end record
    "zip64 end: signature": _field("zip64_end", "signature", lambda v: v ^ 1),
    "zip64 end: record size": _field("zip64_end", "record_size", lambda v: v + 8),
    "zip64 end: disk 1": _field("zip64_end", "disk", lambda v: 1),
    "zip64 end: counts differ": _field("zip64_end", "entries_here", lambda v: v - 1),
    "zip64 end: count too high": lambda d, s: _field("zip64_end", "entries_here", lambda v: v + 1)(
        _field("zip64_end", "entries_total", lambda v: v + 1)(d, s), s
    ),
    "zip64 end: directory size": _field("zip64_end", "cd_size", lambda v: v - 1),
    "zip64 end: directory offset": _field("zip64_end", "cd_offset", lambda v: v + 1),
    # the 32-bit end record beside it
    "end: a real count that differs": _field("end", "entries_total", lambda v: 4),
    "end: a real directory size that differs": _field("end", "cd_size", lambda v: 1),
    "end: a real directory offset that differs": _field("end", "cd_offset", lambda v: 0),
}


# Which check refuses each lie, in its own words: a lie caught by the wrong check would mean the
# right one is missing.
METADATA_NAME = "b'csv_dedupe-1.0.0.dist-info/METADATA'"
SIZE_APART = f"the local header and the central directory size {METADATA_NAME} apart"
HIDE_METADATA = f"bytes hide before, or overlap, the member {METADATA_NAME}"
HIDE_WHEEL = "bytes hide before, or overlap, the member b'csv_dedupe-1.0.0.dist-info/WHEEL'"
NO_EXTRA = "a Zip64 entry has no Zip64 extra field"
SHORT_EXTRA = "a Zip64 extra field is shorter than the values it replaces"
PAST_HEADER = "an extra field runs past the end of its header"
NOT_WHERE = "the Zip64 end record is not where its locator says, just before it"
MULTI_DISK = "multi-disk archives are not accepted"
CD_SHORT = "the central directory is shorter than its entry count"
CD_END = "the central directory does not end at the end record (appended data?)"
DISAGREE = "the end record and the Zip64 end record disagree"

SAYS: dict[str, str] = {
    "central extra: uncompressed size": SIZE_APART,
    "central extra: compressed size": SIZE_APART,
    "central extra: compressed size short": SIZE_APART,
    "central extra: local header offset": HIDE_METADATA,
    "central extra: offset past the file": HIDE_WHEEL,
    "central extra: missing (tag changed)": NO_EXTRA,
    "central extra: shorter than its values": SHORT_EXTRA,
    "central extra: longer than its header": PAST_HEADER,
    "local extra: uncompressed size": SIZE_APART,
    "local extra: compressed size": SIZE_APART,
    "local extra: missing (tag changed)": NO_EXTRA,
    "local extra: longer than its header": PAST_HEADER,
    "locator: points 8 bytes early": NOT_WHERE,
    "locator: points at the locator": NOT_WHERE,
    "locator: points past 2**63": NOT_WHERE,
    "locator: points at 2**64 - 1": NOT_WHERE,
    "locator: disk 1": MULTI_DISK,
    "locator: two disks": MULTI_DISK,
    "zip64 end: signature": NOT_WHERE,
    "zip64 end: record size": NOT_WHERE,
    "zip64 end: disk 1": MULTI_DISK,
    "zip64 end: counts differ": MULTI_DISK,
    "zip64 end: count too high": CD_SHORT,
    "zip64 end: directory size": CD_END,
    "zip64 end: directory offset": CD_END,
    "end: a real count that differs": MULTI_DISK,
    "end: a real directory size that differs": DISAGREE,
    "end: a real directory offset that differs": DISAGREE,
}
FRAMING_DETAIL = (
    "the wheel is not exactly one well-formed zip archive: {}; build it again with a standard "
    "build backend"
)


@pytest.mark.parametrize("lie", list(LIES))
def test_a_lying_zip64_record_is_refused(
    zip64_wheel: tuple[bytes, Zip64Spots], tmp_path: Path, lie: str
) -> None:
    data, spots = zip64_wheel
    path = _write(tmp_path, LIES[lie](data, spots))
    assert path.read_bytes() != data
    with pytest.raises(InvalidUpload) as framing:
        check_zip_framing(path)
    assert framing.value.code == "archive.framing"
    assert framing.value.detail == FRAMING_DETAIL.format(SAYS[lie])
    with pytest.raises(InvalidUpload):
        inspect_wheel(path, UploadLimits(), "csv_dedupe-1.0.0")


@pytest.mark.parametrize(
    "real", [("entries_here", "entries_total"), ("cd_size",), ("cd_offset",)], ids=str
)
def test_32_bit_values_that_agree_are_accepted(
    zip64_wheel: tuple[bytes, Zip64Spots], tmp_path: Path, real: tuple[str, ...]
) -> None:
    """The 32-bit end record may hold a real value instead of the placeholder, if it agrees."""
    data, _ = zip64_wheel
    lay = zipedit.layout(data)
    for name in real:
        wide = "entries_total" if name.startswith("entries") else name
        value = zipedit.get_field(data, lay, "zip64_end", wide)
        data = zipedit.set_field(data, lay, "end", name, value)
    check_zip_framing(_write(tmp_path, data))
