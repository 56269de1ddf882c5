"""A small Zip64 writer: every size and offset in the Zip64 extra fields and end records.

Python's zipfile writes Zip64 records only when it must (a member or archive past 4 GiB, more
than 65535 members); `force_zip64=True` marks the local headers alone. So the Zip64 path of
the central directory (sizes and offsets replaced by 0xFFFFFFFF and found in the extra field)
and the Zip64 end record and locator are written here, by APPNOTE.TXT 4.3.9-4.3.15 and 4.5.3,
for small archives. Python's zipfile reads what this writes (tests/server/publishing/
test_zip64.py checks that before anything else).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

MAX16 = 0xFFFF
MAX32 = 0xFFFFFFFF
VERSION = 45  # 4.5: Zip64
UNIX = 3 << 8
DOS_TIME, DOS_DATE = 0, (40 << 9) | (2 << 5) | 2  # 2020-02-02 00:00, as the wheel builders


@dataclass(frozen=True, slots=True)
class Zip64Spots:
    """Offsets of the values the Zip64 records carry, so a test can make one of them lie."""

    # per member: offsets of (uncompressed size, compressed size, local header offset) inside
    # its central directory Zip64 extra field
    central_extra: tuple[tuple[int, int, int], ...]
    # per member: offsets of (uncompressed size, compressed size) in its local Zip64 extra field
    local_extra: tuple[tuple[int, int], ...]
    zip64_end_at: int
    locator_at: int
    end_at: int


def write_zip64(members: list[tuple[str, bytes]]) -> tuple[bytes, Zip64Spots]:
    """A deflated archive of `members` with Zip64 records throughout."""
    out = bytearray()
    central = bytearray()
    central_extra: list[tuple[int, int, int]] = []
    local_extra: list[tuple[int, int]] = []
    for name, data in members:
        raw = name.encode()
        packer = zlib.compressobj(6, zlib.DEFLATED, -15)
        body = packer.compress(data) + packer.flush()
        crc = zlib.crc32(data)
        local_at = len(out)
        extra = struct.pack("<HHQQ", 1, 16, len(data), len(body))
        out += struct.pack(
            "<4sHHHHHIIIHH",
            b"PK\x03\x04",
            VERSION,
            0,
            8,
            DOS_TIME,
            DOS_DATE,
            crc,
            MAX32,
            MAX32,
            len(raw),
            len(extra),
        )
        extra_at = len(out) + len(raw)
        local_extra.append((extra_at + 4, extra_at + 12))
        out += raw + extra + body
        cd_extra = struct.pack("<HHQQQ", 1, 24, len(data), len(body), local_at)
        cd_at = len(central)
        central += struct.pack(
            "<4sHHHHHHIIIHHHHHII",
            b"PK\x01\x02",
            UNIX | VERSION,
            VERSION,
            0,
            8,
            DOS_TIME,
            DOS_DATE,
            crc,
            MAX32,
            MAX32,
            len(raw),
            len(cd_extra),
            0,
            0,
            0,
            0o100644 << 16,
            MAX32,
        )
        central += raw + cd_extra
        values_at = cd_at + 46 + len(raw) + 4  # inside the central directory, for now
        central_extra.append((values_at, values_at + 8, values_at + 16))
    cd_offset = len(out)
    out += central
    zip64_end_at = len(out)
    out += struct.pack(
        "<4sQHHIIQQQQ",
        b"PK\x06\x06",
        44,
        UNIX | VERSION,
        VERSION,
        0,
        0,
        len(members),
        len(members),
        len(central),
        cd_offset,
    )
    locator_at = len(out)
    out += struct.pack("<4sIQI", b"PK\x06\x07", 0, zip64_end_at, 1)
    end_at = len(out)
    out += struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, MAX16, MAX16, MAX32, MAX32, 0)
    spots = Zip64Spots(
        tuple((cd_offset + u, cd_offset + c, cd_offset + o) for u, c, o in central_extra),
        tuple(local_extra),
        zip64_end_at,
        locator_at,
        end_at,
    )
    return bytes(out), spots


def put_u64(data: bytes, at: int, value: int) -> bytes:
    out = bytearray(data)
    struct.pack_into("<Q", out, at, value % (1 << 64))
    return bytes(out)


def get_u64(data: bytes, at: int) -> int:
    value: int = struct.unpack_from("<Q", data, at)[0]
    return value
