"""Zip framing on the raw bytes: exactly one well-formed archive, nothing else.

Python's zipfile is forgiving: it finds the end record anywhere near the end, accepts bytes
before the first entry (self-extracting archives) and shifts every offset to match, and cuts a
member name at its first NUL. Another reader may see another archive in the same bytes (a
polyglot, or two archives concatenated). So before zipfile reads a wheel, this checks that:

- the file starts with a local file header and ends with the end-of-central-directory record
  (no comment, no trailing bytes);
- the central directory (through the Zip64 records when present) ends exactly where the end
  record is, and starts after the last entry's data;
- Zip64 records are where their locator says and agree with the 32-bit end record, and every
  size or offset an entry moves to its Zip64 extra field is there;
- every central directory entry names its member with bytes that hold no NUL or control
  character, and its local header agrees on name, sizes and flags;
- entries start at offset 0, follow one another without overlapping.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

from pysetl_hub_server.errors import InvalidUpload
from pysetl_hub_server.i18n.messages import Message, _

LOCAL = b"PK\x03\x04"
CENTRAL = b"PK\x01\x02"
END = b"PK\x05\x06"
ZIP64_END = b"PK\x06\x06"
ZIP64_LOCATOR = b"PK\x06\x07"
_END = struct.Struct("<4sHHHHIIH")  # 22 bytes
_LOCATOR = struct.Struct("<4sIQI")  # 20 bytes
_ZIP64_END = struct.Struct("<4sQHHIIQQQQ")  # 56 bytes
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")  # 46 bytes
_LOCAL = struct.Struct("<4sHHHHHIIIHH")  # 30 bytes
DATA_DESCRIPTOR_FLAG = 0x08
MAX16 = 0xFFFF
MAX32 = 0xFFFFFFFF


def _bad(detail: Message) -> InvalidUpload:
    return InvalidUpload(
        "archive.framing",
        _(
            "the wheel is not exactly one well-formed zip archive: {detail}; build it again "
            "with a standard build backend",
            detail=detail,
        ),
    )


def _read(f: BinaryIO, offset: int, n: int) -> bytes:
    f.seek(offset)
    data = f.read(n)
    if len(data) != n:
        raise _bad(_("a record at offset {offset} runs past the end of the file", offset=offset))
    return data


def check_zip_framing(path: Path) -> None:
    size = path.stat().st_size
    if size < _END.size + _LOCAL.size:
        raise _bad(_("the file is too short to hold an archive"))
    with path.open("rb") as f:
        if _read(f, 0, 4) != LOCAL:
            raise _bad(_("bytes come before the first local file header"))
        end_at = size - _END.size
        sig, disk, cd_disk, n_here, n_total, cd_size, cd_offset, comment = _END.unpack(
            _read(f, end_at, _END.size)
        )
        if sig != END or comment:
            raise _bad(
                _("the end-of-central-directory record is not the last 22 bytes of the file")
            )
        if disk or cd_disk or n_here != n_total:
            raise _bad(_("multi-disk archives are not accepted"))
        cd_end = end_at
        locator_at = end_at - _LOCATOR.size
        if locator_at >= 0 and _read(f, locator_at, 4) == ZIP64_LOCATOR:
            n_total, cd_size, cd_offset, cd_end = _zip64_end(
                f, locator_at, n_total, cd_size, cd_offset
            )
        if cd_offset + cd_size != cd_end:
            raise _bad(_("the central directory does not end at the end record (appended data?)"))
        entries = _central_entries(f, cd_offset, cd_size, n_total)
        _check_locals(f, entries, cd_offset)


def _zip64_end(
    f: BinaryIO, locator_at: int, n_total: int, cd_size: int, cd_offset: int
) -> tuple[int, int, int, int]:
    """Entry count, size and offset of the central directory from the Zip64 end record, and
    where that record starts (the directory must end there). The locator must point at a
    record of the standard size just before it, and every value the 32-bit end record still
    holds (rather than the 0xFFFF... placeholder) must agree with the Zip64 one."""
    _sig, disk, z64_at, disks = _LOCATOR.unpack(_read(f, locator_at, _LOCATOR.size))
    if disk != 0 or disks > 1:
        raise _bad(_("multi-disk archives are not accepted"))
    if z64_at + _ZIP64_END.size != locator_at:
        raise _bad(_("the Zip64 end record is not where its locator says, just before it"))
    sig, size, _mv, _nv, z_disk, z_cd_disk, z_here, z_total, z_size, z_offset = _ZIP64_END.unpack(
        _read(f, z64_at, _ZIP64_END.size)
    )
    if sig != ZIP64_END or size != _ZIP64_END.size - 12:
        raise _bad(_("the Zip64 end record is not where its locator says, just before it"))
    if z_disk or z_cd_disk or z_here != z_total:
        raise _bad(_("multi-disk archives are not accepted"))
    for narrow, wide, placeholder in (
        (n_total, z_total, MAX16),
        (cd_size, z_size, MAX32),
        (cd_offset, z_offset, MAX32),
    ):
        if narrow not in (placeholder, wide):
            raise _bad(_("the end record and the Zip64 end record disagree"))
    return z_total, z_size, z_offset, z64_at


def _central_entries(
    f: BinaryIO, offset: int, size: int, count: int
) -> list[tuple[bytes, int, int, int, int]]:
    """(raw name, local header offset, flags, compressed, uncompressed) per entry."""
    data = _read(f, offset, size)
    pos, entries = 0, []
    for _entry in range(count):
        if pos + _CENTRAL.size > len(data):
            raise _bad(_("the central directory is shorter than its entry count"))
        fields = _CENTRAL.unpack_from(data, pos)
        if fields[0] != CENTRAL:
            raise _bad(_("a central directory entry has a bad signature"))
        flags, csize, usize = fields[3], fields[8], fields[9]
        name_len, extra_len, comment_len, local_at = fields[10], fields[11], fields[12], fields[16]
        start = pos + _CENTRAL.size
        name = data[start : start + name_len]
        if any(b < 0x20 or b == 0x7F for b in name):
            raise _bad(
                _("a member name holds a NUL or control character ({name!r})", name=name[:60])
            )
        extra = data[start + name_len : start + name_len + extra_len]
        usize, csize, local_at = _zip64_sizes(extra, usize, csize, local_at)
        entries.append((name, local_at, flags, csize, usize))
        pos = start + name_len + extra_len + comment_len
    if pos != len(data):
        raise _bad(_("the central directory holds more than its entries"))
    return entries


def _zip64_sizes(extra: bytes, usize: int, csize: int, local_at: int) -> tuple[int, int, int]:
    """The real values of fields a Zip64 entry sets to 0xFFFFFFFF, from its extra field."""
    if MAX32 not in (usize, csize, local_at):
        return usize, csize, local_at
    pos = 0
    while pos + 4 <= len(extra):
        kind, length = struct.unpack_from("<HH", extra, pos)
        if pos + 4 + length > len(extra):
            raise _bad(_("an extra field runs past the end of its header"))
        if kind == 0x0001:
            values = list(struct.unpack_from(f"<{length // 8}Q", extra, pos + 4))
            out = []
            for field in (usize, csize, local_at):
                if field == MAX32:
                    if not values:
                        raise _bad(_("a Zip64 extra field is shorter than the values it replaces"))
                    field = values.pop(0)
                out.append(field)
            return out[0], out[1], out[2]
        pos += 4 + length
    raise _bad(_("a Zip64 entry has no Zip64 extra field"))


def _check_locals(
    f: BinaryIO, entries: list[tuple[bytes, int, int, int, int]], cd_offset: int
) -> None:
    """Entries follow one another from offset 0 to the central directory, with no gap where
    bytes could hide (a data descriptor after a member takes 12 to 24 bytes)."""
    end, slack = 0, 0
    for name, local_at, flags, csize, usize in sorted(entries, key=lambda e: e[1]):
        if not end <= local_at <= end + slack:
            raise _bad(_("bytes hide before, or overlap, the member {name!r}", name=name[:60]))
        fields = _LOCAL.unpack(_read(f, local_at, _LOCAL.size))
        if fields[0] != LOCAL:
            raise _bad(_("the local header of {name!r} is missing", name=name[:60]))
        l_flags, l_csize, l_usize, name_len, extra_len = (
            fields[2],
            fields[7],
            fields[8],
            fields[9],
            fields[10],
        )
        if _read(f, local_at + _LOCAL.size, name_len) != name:
            raise _bad(
                _("the local header and the central directory name {name!r} apart", name=name[:60])
            )
        described = flags & DATA_DESCRIPTOR_FLAG
        if (l_flags ^ flags) & DATA_DESCRIPTOR_FLAG:
            raise _bad(
                _("the local header and the central directory of {name!r} disagree", name=name[:60])
            )
        if not described and MAX32 in (l_csize, l_usize):
            extra = _read(f, local_at + _LOCAL.size + name_len, extra_len)
            l_usize, l_csize, _at = _zip64_sizes(extra, l_usize, l_csize, 0)
        if not described and (l_csize, l_usize) != (csize, usize):
            raise _bad(
                _("the local header and the central directory size {name!r} apart", name=name[:60])
            )
        end = local_at + _LOCAL.size + name_len + extra_len + csize
        slack = 24 if described else 0
    if not end <= cd_offset <= end + slack:
        raise _bad(_("bytes hide between the last member and the central directory"))
