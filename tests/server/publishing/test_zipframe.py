"""Exactly one well-formed zip: polyglots, concatenations and raw-name tricks are refused.

Each hostile wheel is built from a real one (examples/csv-dedupe) by editing its bytes, and is
one Python's zipfile would still read.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from pysetl_hub_server.errors import InvalidUpload
from pysetl_hub_server.publishing.zipframe import check_zip_framing
from tests.server.publishing.test_validate import assert_nothing_stored
from tests.support.dists import read_wheel
from tests.support.live import LiveServer
from tests.support.upload import problem, upload

WHEEL = "csv-dedupe:wheel"


def _rename_member(data: bytes, old: bytes, new: bytes, *, central: bool, local: bool) -> bytes:
    """Replace a member name of the same length in the central directory and/or local header."""
    assert len(old) == len(new)
    out = bytearray(data)
    for sig, is_central in ((b"PK\x01\x02", True), (b"PK\x03\x04", False)):
        if (is_central and not central) or (not is_central and not local):
            continue
        start = 0
        while (at := data.find(sig, start)) >= 0:
            header = 46 if is_central else 30
            name_len = struct.unpack_from("<H", data, at + (28 if is_central else 26))[0]
            name = data[at + header : at + header + name_len]
            if name == old:
                out[at + header : at + header + name_len] = new
            start = at + 4
    return bytes(out)


def _with_comment(data: bytes) -> bytes:
    buf = io.BytesIO(data)
    with zipfile.ZipFile(buf, "a") as zf:
        zf.comment = b"hidden"
    return buf.getvalue()


def _first_py(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return next(n for n in zf.namelist() if n.endswith("__init__.py")).encode()


HOSTILE: dict[str, Callable[[bytes], bytes]] = {
    "bytes before": lambda d: b"#!/bin/sh\necho polyglot\n" + d,
    "bytes after": lambda d: d + b"trailing payload",
    "two archives": lambda d: d + d,
    "zip comment": _with_comment,
    "nul in a name": lambda d: _rename_member(
        d, _first_py(d), _first_py(d)[:-3] + b"\x00py", central=True, local=True
    ),
    "names differ": lambda d: _rename_member(
        d, _first_py(d), _first_py(d)[:-3] + b"pyx", central=False, local=True
    ),
}


@pytest.mark.parametrize("attack", list(HOSTILE))
def test_hostile_framing_is_refused(
    live: LiveServer,
    http: httpx.Client,
    example_dists: dict[str, Path],
    tmp_path: Path,
    attack: str,
) -> None:
    original = example_dists[WHEEL]
    hostile = tmp_path / original.name
    hostile.write_bytes(HOSTILE[attack](original.read_bytes()))
    token = live.user_with_token("alice")
    r = upload(http, token, hostile)
    assert r.status_code == 400, r.text
    assert problem(r)["code"] in {"archive.framing", "archive.corrupt"}, problem(r)
    assert_nothing_stored(live)


def test_real_wheels_pass(example_dists: dict[str, Path], tmp_path: Path) -> None:
    """Backend-built wheels, and one rewritten by Python's zipfile, are well framed."""
    check_zip_framing(example_dists[WHEEL])
    check_zip_framing(example_dists["daily-sales-pipeline:wheel"])
    rewritten = tmp_path / "w.whl"
    with zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in read_wheel(example_dists[WHEEL]).items():
            zf.writestr(name, data)
    check_zip_framing(rewritten)


def test_zip64_and_streamed_wheels_pass(example_dists: dict[str, Path], tmp_path: Path) -> None:
    """Zip64 records and data descriptors (a writer that cannot seek) are standard framing."""
    members = read_wheel(example_dists[WHEEL])
    forced = tmp_path / "zip64.whl"
    with zipfile.ZipFile(forced, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            with zf.open(name, "w", force_zip64=True) as out:
                out.write(data)
    check_zip_framing(forced)

    class Unseekable(io.RawIOBase):
        def __init__(self) -> None:
            self.buf = bytearray()

        def writable(self) -> bool:
            return True

        def write(self, b: bytes) -> int:  # type: ignore[override]
            self.buf += b
            return len(b)

    sink = Unseekable()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as zf:  # type: ignore[arg-type]
        for name, data in members.items():
            zf.writestr(name, data)
    streamed = tmp_path / "streamed.whl"
    streamed.write_bytes(bytes(sink.buf))
    check_zip_framing(streamed)


# Which check refuses each attack, in its own words (the HTTP test above accepts either code).
SAYS: dict[str, str] = {
    "bytes before": "bytes come before the first local file header",
    "bytes after": "the end-of-central-directory record is not the last 22 bytes of the file",
    "two archives": "the central directory does not end at the end record (appended data?)",
    "zip comment": "the end-of-central-directory record is not the last 22 bytes of the file",
    "nul in a name": (
        "a member name holds a NUL or control character (b'csv_dedupe/__init__\\x00py')"
    ),
    "names differ": (
        "the local header and the central directory name b'csv_dedupe/__init__.py' apart"
    ),
}


@pytest.mark.parametrize("attack", list(HOSTILE))
def test_each_attack_is_refused_by_its_own_check(
    example_dists: dict[str, Path], tmp_path: Path, attack: str
) -> None:
    hostile = tmp_path / example_dists[WHEEL].name
    hostile.write_bytes(HOSTILE[attack](example_dists[WHEEL].read_bytes()))
    with pytest.raises(InvalidUpload) as caught:
        check_zip_framing(hostile)
    assert (caught.value.code, caught.value.detail) == (
        "archive.framing",
        f"the wheel is not exactly one well-formed zip archive: {SAYS[attack]}; build it again "
        "with a standard build backend",
    )


def _zip(tmp_path: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    path = tmp_path / "x-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in entries:
            zf.writestr(info, data)
    return path


def _framing_detail(path: Path) -> str:
    with pytest.raises(InvalidUpload) as caught:
        check_zip_framing(path)
    assert caught.value.code == "archive.framing"
    return caught.value.detail.removeprefix(
        "the wheel is not exactly one well-formed zip archive: "
    ).removesuffix("; build it again with a standard build backend")


def test_edges_of_the_central_directory(tmp_path: Path) -> None:
    # A space is a legal name byte; DEL is a control character.
    check_zip_framing(_zip(tmp_path, [("a b/c d.py", b"x")]))
    assert _framing_detail(_zip(tmp_path, [("a\x7fb.py", b"x")])) == (
        "a member name holds a NUL or control character (b'a\\x7fb.py')"
    )
    # A per-member comment sits inside the central directory entry: it is read past, not refused.
    commented = zipfile.ZipInfo("a.py")
    commented.comment = b"a member comment"
    check_zip_framing(_zip(tmp_path, [(commented, b"x"), ("b.py", b"y")]))


def test_short_files_and_split_archives(tmp_path: Path) -> None:
    short = tmp_path / "short.whl"
    short.write_bytes(b"PK\x03\x04" + b"\0" * 40)
    assert _framing_detail(short) == "the file is too short to hold an archive"
    data = bytearray(_zip(tmp_path, [("a.py", b"x")]).read_bytes())
    struct.pack_into("<H", data, len(data) - 22 + 4, 1)  # this disk's number, in the end record
    split = tmp_path / "split.whl"
    split.write_bytes(bytes(data))
    assert _framing_detail(split) == "multi-disk archives are not accepted"
