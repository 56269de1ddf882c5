"""Random damage to a valid wheel, as Hypothesis strategies over small, printable edits.

A mutant is a list of 1-3 edits applied in order to a well-formed archive: bit flips, overwritten,
inserted or deleted bytes (anywhere, or aimed at a local header, a central directory entry or
the end record), a header field set to a boundary value or nudged, two members' local records
swapped (with or without the central directory following), a central directory entry dropped
or the directory cut short, and bytes appended or prepended. Positions are taken modulo the
current length and edits that no longer fit are skipped, so every mutant can be applied to any
base archive; Hypothesis prints the edits of a failing example, and `apply` replays them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TypeAlias

from hypothesis import strategies as st

from tests.support import zipedit
from tests.support.zipedit import Layout

REGIONS = ("file", "local", "central", "end")


@dataclass(frozen=True, slots=True)
class Spot:
    """A position: `offset` bytes into a region (the whole file, member `index`'s local
    header or central entry, or the end record), wrapped to the data's length."""

    region: str
    index: int
    offset: int

    def resolve(self, lay: Layout, size: int) -> int:
        if self.region == "file" or not lay.members:
            base = 0
        elif self.region == "local":
            base = lay.members[self.index % len(lay.members)].local_at
        elif self.region == "central":
            base = lay.members[self.index % len(lay.members)].central_at
        else:
            base = lay.end_at
        return (base + self.offset) % (size + 1)


@dataclass(frozen=True, slots=True)
class FlipBits:
    at: Spot
    mask: int

    def apply(self, data: bytes, lay: Layout) -> bytes:
        pos = self.at.resolve(lay, len(data))
        if pos >= len(data):
            return data
        out = bytearray(data)
        out[pos] ^= self.mask
        return bytes(out)


@dataclass(frozen=True, slots=True)
class Overwrite:
    at: Spot
    new: bytes

    def apply(self, data: bytes, lay: Layout) -> bytes:
        pos = self.at.resolve(lay, len(data))
        return data[:pos] + self.new + data[pos + len(self.new) :]


@dataclass(frozen=True, slots=True)
class Insert:
    at: Spot
    new: bytes

    def apply(self, data: bytes, lay: Layout) -> bytes:
        pos = self.at.resolve(lay, len(data))
        return data[:pos] + self.new + data[pos:]


@dataclass(frozen=True, slots=True)
class Delete:
    at: Spot
    length: int

    def apply(self, data: bytes, lay: Layout) -> bytes:
        pos = self.at.resolve(lay, len(data))
        return data[:pos] + data[pos + self.length :]


@dataclass(frozen=True, slots=True)
class SetField:
    """A header field set to `value`, or moved by it (`relative`); masked to its width."""

    record: str  # "local" | "central" | "end" | "zip64_end" | "locator"
    index: int
    field: str
    value: int
    relative: bool

    def apply(self, data: bytes, lay: Layout) -> bytes:
        if not lay.members or (self.record == "zip64_end" and lay.zip64_end_at is None):
            return data
        if self.record == "locator" and lay.locator_at is None:
            return data
        index = self.index % len(lay.members)
        offset, fmt = zipedit.RECORDS[self.record][self.field]
        at = lay.record_at(self.record, index) + offset
        if at + struct.calcsize(fmt) > len(data):
            return data
        if self.relative:
            return zipedit.add_to_field(data, lay, self.record, self.field, self.value, index)
        return zipedit.set_field(data, lay, self.record, self.field, self.value, index)


@dataclass(frozen=True, slots=True)
class SetZip64Value:
    """One 8-byte value of a member's Zip64 extra field (central or local header), set to
    `value` or moved by it; nothing happens to a member without one."""

    record: str  # "local" | "central"
    index: int
    slot: int  # 0: uncompressed size, 1: compressed size, 2: local header offset (central)
    value: int
    relative: bool

    def apply(self, data: bytes, lay: Layout) -> bytes:
        if not lay.members:
            return data
        index = self.index % len(lay.members)
        at = zipedit.zip64_value_at(data, lay, self.record, index, self.slot)
        if at is None or at + 8 > len(data):
            return data
        old = struct.unpack_from("<Q", data, at)[0]
        new = (old + self.value if self.relative else self.value) % (1 << 64)
        out = bytearray(data)
        struct.pack_into("<Q", out, at, new)
        return bytes(out)


@dataclass(frozen=True, slots=True)
class SwapMembers:
    i: int
    j: int
    fix_offsets: bool

    def apply(self, data: bytes, lay: Layout) -> bytes:
        n = len(lay.members)
        i, j = self.i % n, self.j % n
        if i == j or len(data) != lay.end_at + 22:
            return data  # only on an archive whose records are still where `lay` says
        return zipedit.swap_members(data, lay, i, j, fix_offsets=self.fix_offsets)


@dataclass(frozen=True, slots=True)
class DropCentralEntry:
    index: int
    fix_end: bool

    def apply(self, data: bytes, lay: Layout) -> bytes:
        if len(data) != lay.end_at + 22:
            return data
        index = self.index % len(lay.members)
        return zipedit.drop_central_entry(data, lay, index, fix_end=self.fix_end)


@dataclass(frozen=True, slots=True)
class TruncateCentral:
    """Keep only the first `keep` bytes of the central directory, then the end record (whose
    size field follows the cut when `fix_end`)."""

    keep: int
    fix_end: bool

    def apply(self, data: bytes, lay: Layout) -> bytes:
        if len(data) != lay.end_at + 22:
            return data
        keep = self.keep % (lay.cd_size + 1)
        out = data[: lay.cd_offset + keep] + data[lay.end_at :]
        if not self.fix_end:
            return out
        end = Layout(lay.members, lay.cd_offset, keep, lay.cd_offset + keep)
        return zipedit.set_field(out, end, "end", "cd_size", keep)


@dataclass(frozen=True, slots=True)
class Truncate:
    keep: int

    def apply(self, data: bytes, lay: Layout) -> bytes:
        return data[: self.keep % (len(data) + 1)]


@dataclass(frozen=True, slots=True)
class Append:
    new: bytes

    def apply(self, data: bytes, lay: Layout) -> bytes:
        return data + self.new


@dataclass(frozen=True, slots=True)
class Prepend:
    new: bytes

    def apply(self, data: bytes, lay: Layout) -> bytes:
        return self.new + data


Edit: TypeAlias = (
    FlipBits
    | Overwrite
    | Insert
    | Delete
    | SetField
    | SetZip64Value
    | SwapMembers
    | DropCentralEntry
    | TruncateCentral
    | Truncate
    | Append
    | Prepend
)


def apply(base: bytes, edits: list[Edit]) -> bytes:
    """The mutant: `edits` applied in order, each aimed by the layout of the untouched base
    (a zip archive), or at plain offsets when the base is not one (a tar)."""
    try:
        lay = zipedit.layout(base)
    except ValueError:
        lay = Layout((), 0, 0, 0)
    data = base
    for edit in edits:
        data = edit.apply(data, lay)
    return data


# -- strategies ---------------------------------------------------------------------------------

_index = st.integers(0, 15)
_spot = st.builds(
    Spot, st.sampled_from(REGIONS), _index, st.integers(0, 96) | st.integers(0, 1 << 16)
)
_some_bytes = st.binary(min_size=1, max_size=32) | st.sampled_from(
    [b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06", b"PK\x06\x06", b"PK\x06\x07", b"\x00" * 4]
)
_BOUNDARIES = [0, 1, 2, 7, 8, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF]
_BOUNDARIES += [0xFFFFFFFE, 0xFFFFFFFF, 1 << 32, (1 << 63) - 1, 1 << 63, (1 << 64) - 1]
_values = st.sampled_from(_BOUNDARIES) | st.integers(0, (1 << 64) - 1)
_nudges = st.integers(1, 64) | st.integers(-64, -1)


def _field_edit(record: str) -> st.SearchStrategy[SetField]:
    fields = st.sampled_from(sorted(zipedit.RECORDS[record]))
    absolute = st.builds(SetField, st.just(record), _index, fields, _values, st.just(False))
    nudged = st.builds(SetField, st.just(record), _index, fields, _nudges, st.just(True))
    return absolute | nudged


_zip64_value = st.builds(
    SetZip64Value,
    st.sampled_from(["local", "central"]),
    _index,
    st.integers(0, 2),
    _values | _nudges,
    st.booleans(),
)

edits: st.SearchStrategy[Edit] = st.one_of(
    st.builds(FlipBits, _spot, st.integers(1, 255)),
    st.builds(Overwrite, _spot, _some_bytes),
    st.builds(Insert, _spot, _some_bytes),
    st.builds(Delete, _spot, st.integers(1, 64)),
    _field_edit("local"),
    _field_edit("central"),
    _field_edit("end"),
    _field_edit("zip64_end"),
    _field_edit("locator"),
    _zip64_value,
    st.builds(SwapMembers, _index, _index, st.booleans()),
    st.builds(DropCentralEntry, _index, st.booleans()),
    st.builds(TruncateCentral, st.integers(0, 1 << 16), st.booleans()),
    st.builds(Truncate, st.integers(0, 1 << 16)),
    st.builds(Append, _some_bytes),
    st.builds(Prepend, _some_bytes),
)
mutants: st.SearchStrategy[list[Edit]] = st.lists(edits, min_size=1, max_size=3)

# For a tar (an sdist): the edits that need no zip records.
byte_edits: st.SearchStrategy[Edit] = st.one_of(
    st.builds(FlipBits, _spot, st.integers(1, 255)),
    st.builds(Overwrite, _spot, _some_bytes),
    st.builds(Insert, _spot, _some_bytes),
    st.builds(Delete, _spot, st.integers(1, 512)),
    st.builds(Truncate, st.integers(0, 1 << 16)),
    st.builds(Append, _some_bytes),
)
byte_mutants: st.SearchStrategy[list[Edit]] = st.lists(byte_edits, min_size=1, max_size=3)
