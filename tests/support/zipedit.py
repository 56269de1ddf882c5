"""Byte-level surgery on zip archives: find every record, then change one field or move bytes.

Tests build a real wheel first and then break exactly one thing, so each refusal is about the
rule under test. Nothing here validates: a layout is read from a well-formed archive, and the
edits do what they are told even when the result is nonsense (that is the point).

Offsets of the fields, from APPNOTE.TXT section 4.3:

- local file header (30 bytes + name + extra), `PK\\x03\\x04`
- central directory file header (46 bytes + name + extra + comment), `PK\\x01\\x02`
- end of central directory record (22 bytes + comment), `PK\\x05\\x06`
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

LOCAL_SIG = b"PK\x03\x04"
CENTRAL_SIG = b"PK\x01\x02"
END_SIG = b"PK\x05\x06"
ZIP64_END_SIG = b"PK\x06\x06"
ZIP64_LOCATOR_SIG = b"PK\x06\x07"
MAX16 = 0xFFFF
MAX32 = 0xFFFFFFFF

# field name -> (offset inside the record, struct format)
LOCAL_FIELDS: dict[str, tuple[int, str]] = {
    "signature": (0, "<I"),
    "version_needed": (4, "<H"),
    "flags": (6, "<H"),
    "method": (8, "<H"),
    "time": (10, "<H"),
    "date": (12, "<H"),
    "crc": (14, "<I"),
    "compressed_size": (18, "<I"),
    "uncompressed_size": (22, "<I"),
    "name_length": (26, "<H"),
    "extra_length": (28, "<H"),
}
CENTRAL_FIELDS: dict[str, tuple[int, str]] = {
    "signature": (0, "<I"),
    "version_made_by": (4, "<H"),
    "version_needed": (6, "<H"),
    "flags": (8, "<H"),
    "method": (10, "<H"),
    "time": (12, "<H"),
    "date": (14, "<H"),
    "crc": (16, "<I"),
    "compressed_size": (20, "<I"),
    "uncompressed_size": (24, "<I"),
    "name_length": (28, "<H"),
    "extra_length": (30, "<H"),
    "comment_length": (32, "<H"),
    "disk_start": (34, "<H"),
    "internal_attr": (36, "<H"),
    "external_attr": (38, "<I"),
    "local_offset": (42, "<I"),
}
END_FIELDS: dict[str, tuple[int, str]] = {
    "signature": (0, "<I"),
    "disk": (4, "<H"),
    "cd_disk": (6, "<H"),
    "entries_here": (8, "<H"),
    "entries_total": (10, "<H"),
    "cd_size": (12, "<I"),
    "cd_offset": (16, "<I"),
    "comment_length": (20, "<H"),
}
ZIP64_END_FIELDS: dict[str, tuple[int, str]] = {
    "signature": (0, "<I"),
    "record_size": (4, "<Q"),
    "version_made_by": (12, "<H"),
    "version_needed": (14, "<H"),
    "disk": (16, "<I"),
    "cd_disk": (20, "<I"),
    "entries_here": (24, "<Q"),
    "entries_total": (32, "<Q"),
    "cd_size": (40, "<Q"),
    "cd_offset": (48, "<Q"),
}
LOCATOR_FIELDS: dict[str, tuple[int, str]] = {
    "signature": (0, "<I"),
    "disk": (4, "<I"),
    "zip64_end_offset": (8, "<Q"),
    "total_disks": (16, "<I"),
}
RECORDS = {
    "local": LOCAL_FIELDS,
    "central": CENTRAL_FIELDS,
    "end": END_FIELDS,
    "zip64_end": ZIP64_END_FIELDS,
    "locator": LOCATOR_FIELDS,
}


@dataclass(frozen=True, slots=True)
class Member:
    """One member as the central directory describes it, and where its local record sits."""

    name: bytes
    central_at: int  # offset of its central directory header
    central_len: int  # 46 + name + extra + comment
    local_at: int  # offset of its local header
    local_len: int  # 30 + name + extra + data (no data descriptor in our builders)


@dataclass(frozen=True, slots=True)
class Layout:
    members: tuple[Member, ...]
    cd_offset: int
    cd_size: int
    end_at: int  # the 22-byte end record
    zip64_end_at: int | None = None
    locator_at: int | None = None

    def record_at(self, record: str, index: int = 0) -> int:
        if record == "local":
            return self.members[index].local_at
        if record == "central":
            return self.members[index].central_at
        if record == "end":
            return self.end_at
        at = self.zip64_end_at if record == "zip64_end" else self.locator_at
        if at is None:
            raise ValueError(f"this archive has no {record} record")
        return at

    def index_of(self, suffix: str) -> int:
        """The member whose name ends with `suffix` (e.g. '.dist-info/RECORD')."""
        return next(i for i, m in enumerate(self.members) if m.name.endswith(suffix.encode()))


def layout(data: bytes) -> Layout:
    """Where every record of a well-formed archive (with no trailing comment) sits."""
    end_at = len(data) - 22
    if data[end_at : end_at + 4] != END_SIG:
        raise ValueError("not a zip archive ending with its end record")
    count, cd_size, cd_offset = struct.unpack_from("<HII", data, end_at + 10)
    zip64_end_at = locator_at = None
    if data[end_at - 20 : end_at - 16] == ZIP64_LOCATOR_SIG:
        locator_at = end_at - 20
        (zip64_end_at,) = struct.unpack_from("<Q", data, locator_at + 8)
        count, cd_size, cd_offset = struct.unpack_from("<QQQ", data, zip64_end_at + 32)
    members = []
    pos = cd_offset
    for _ in range(count):
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, pos + 28)
        csize = struct.unpack_from("<I", data, pos + 20)[0]
        local_at = struct.unpack_from("<I", data, pos + 42)[0]
        extra = data[pos + 46 + name_len : pos + 46 + name_len + extra_len]
        if MAX32 in (csize, local_at):
            usize = struct.unpack_from("<I", data, pos + 24)[0]
            csize, local_at = _zip64_values(extra, usize, csize, local_at)
        l_name, l_extra = struct.unpack_from("<HH", data, local_at + 26)
        members.append(
            Member(
                name=data[pos + 46 : pos + 46 + name_len],
                central_at=pos,
                central_len=46 + name_len + extra_len + comment_len,
                local_at=local_at,
                local_len=30 + l_name + l_extra + csize,
            )
        )
        pos += 46 + name_len + extra_len + comment_len
    return Layout(tuple(members), cd_offset, cd_size, end_at, zip64_end_at, locator_at)


def _zip64_values(extra: bytes, usize: int, csize: int, local_at: int) -> tuple[int, int]:
    pos = 0
    while pos + 4 <= len(extra):
        kind, length = struct.unpack_from("<HH", extra, pos)
        if kind == 1:
            values = list(struct.unpack_from(f"<{length // 8}Q", extra, pos + 4))
            if usize == MAX32:
                values.pop(0)
            if csize == MAX32:
                csize = values.pop(0)
            if local_at == MAX32:
                local_at = values.pop(0)
            return csize, local_at
        pos += 4 + length
    raise ValueError("no Zip64 extra field")


def get_field(data: bytes, lay: Layout, record: str, field: str, index: int = 0) -> int:
    offset, fmt = RECORDS[record][field]
    value: int = struct.unpack_from(fmt, data, lay.record_at(record, index) + offset)[0]
    return value


def set_field(
    data: bytes, lay: Layout, record: str, field: str, value: int, index: int = 0
) -> bytes:
    """`data` with one header field set (the value is masked to the field's width)."""
    offset, fmt = RECORDS[record][field]
    width = struct.calcsize(fmt)
    out = bytearray(data)
    struct.pack_into(fmt, out, lay.record_at(record, index) + offset, value % (1 << (8 * width)))
    return bytes(out)


def add_to_field(
    data: bytes, lay: Layout, record: str, field: str, delta: int, index: int = 0
) -> bytes:
    return set_field(
        data, lay, record, field, get_field(data, lay, record, field, index) + delta, index
    )


def rename(
    data: bytes, lay: Layout, index: int, new: bytes, *, central: bool, local: bool
) -> bytes:
    """Give member `index` another name of the same length, in either or both headers."""
    m = lay.members[index]
    assert len(new) == len(m.name), "same length only: nothing else moves"
    out = bytearray(data)
    if central:
        out[m.central_at + 46 : m.central_at + 46 + len(new)] = new
    if local:
        out[m.local_at + 30 : m.local_at + 30 + len(new)] = new
    return bytes(out)


def insert_before_member(data: bytes, lay: Layout, index: int, junk: bytes) -> bytes:
    """Insert bytes before member `index` and shift every offset after them, so the archive is
    still one a forgiving reader accepts, with a gap where the bytes hide."""
    at = lay.members[index].local_at
    return shift_after(data[:at] + junk + data[at:], lay, at, len(junk))


def insert_before_cd(data: bytes, lay: Layout, junk: bytes) -> bytes:
    """Bytes between the last member and the central directory, the end record moved to match."""
    at = lay.cd_offset
    return shift_after(data[:at] + junk + data[at:], lay, at, len(junk))


def shift_after(data: bytes, lay: Layout, at: int, by: int) -> bytes:
    """Fix every offset in the (already shifted) bytes that pointed at or past `at`; `lay` is
    the layout before the shift. 32-bit records only."""
    assert lay.zip64_end_at is None, "32-bit archives only"
    moved = Layout(
        tuple(
            Member(
                m.name,
                m.central_at + by if m.central_at >= at else m.central_at,
                m.central_len,
                m.local_at,
                m.local_len,
            )
            for m in lay.members
        ),
        lay.cd_offset + by if lay.cd_offset >= at else lay.cd_offset,
        lay.cd_size,
        lay.end_at + by,
    )
    for i, m in enumerate(lay.members):
        if m.local_at >= at:
            data = set_field(data, moved, "central", "local_offset", m.local_at + by, i)
    return set_field(data, moved, "end", "cd_offset", moved.cd_offset)


def swap_members(data: bytes, lay: Layout, i: int, j: int, *, fix_offsets: bool) -> bytes:
    """Swap the local records (header + data) of two members; with `fix_offsets` the central
    directory follows them (a valid archive in another order), without it it points at the
    old places."""
    a, b = sorted((lay.members[i], lay.members[j]), key=lambda m: m.local_at)
    assert a.local_at + a.local_len <= b.local_at
    blob_a = data[a.local_at : a.local_at + a.local_len]
    blob_b = data[b.local_at : b.local_at + b.local_len]
    middle = data[a.local_at + a.local_len : b.local_at]
    out = data[: a.local_at] + blob_b + middle + blob_a + data[b.local_at + b.local_len :]
    if not fix_offsets:
        return out
    new_b = a.local_at
    new_a = a.local_at + len(blob_b) + len(middle)
    for k, m in enumerate(lay.members):
        if m.local_at == a.local_at:
            out = set_field(out, lay, "central", "local_offset", new_a, k)
        elif m.local_at == b.local_at:
            out = set_field(out, lay, "central", "local_offset", new_b, k)
    return out


def drop_central_entry(data: bytes, lay: Layout, index: int, *, fix_end: bool) -> bytes:
    """Cut one entry out of the central directory (the member's local record stays, hidden);
    with `fix_end` the end record's count and size agree with the shorter directory."""
    m = lay.members[index]
    out = data[: m.central_at] + data[m.central_at + m.central_len :]
    if not fix_end:
        return out
    end = Layout(lay.members, lay.cd_offset, lay.cd_size, lay.end_at - m.central_len)
    out = add_to_field(out, end, "end", "entries_here", -1)
    out = add_to_field(out, end, "end", "entries_total", -1)
    return add_to_field(out, end, "end", "cd_size", -m.central_len)


def zip64_value_at(data: bytes, lay: Layout, record: str, index: int, slot: int) -> int | None:
    """Where value `slot` of member `index`'s Zip64 extra field is, in its central directory
    entry or its local header (None: the header has no Zip64 field, or one that short)."""
    at = lay.record_at(record, index)
    fields = CENTRAL_FIELDS if record == "central" else LOCAL_FIELDS
    head = 46 if record == "central" else 30
    if at + head > len(data):
        return None
    name_len = struct.unpack_from("<H", data, at + fields["name_length"][0])[0]
    extra_len = struct.unpack_from("<H", data, at + fields["extra_length"][0])[0]
    pos, end = at + head + name_len, at + head + name_len + extra_len
    while pos + 4 <= min(end, len(data)):
        kind, length = struct.unpack_from("<HH", data, pos)
        if kind == 1:
            return pos + 4 + 8 * slot if 8 * (slot + 1) <= length else None
        pos += 4 + length
    return None
