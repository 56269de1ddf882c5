"""One table per family of publishing rules: each bad upload gets its 4xx problem, and leaves
nothing behind (no row, no serial, no blob, no spool or temporary file).

Every case starts from a real wheel or sdist built from examples/, renamed to a component of
its own (`<family>-<case id>`), and breaks one rule. The cases share one live hub on SQLite;
the families whose rules read or write the database (names, permission, duplicates) run on a
second hub on PostgreSQL too. A case publishes what it needs itself, so it passes or fails
alone, in any order.

To add a case, append a `Refusal(id, status, code, send)` to its family's list below; `send`
takes a `Ctx` (tests/support/refusals.py) and returns the `Send` to post. A new family is a new
list and a three-line test at the bottom.
"""

from __future__ import annotations

import base64
import random
import stat
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete, select, update

from pysetl_hub_server.db.models import ApiToken, File
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.settings import UploadLimits
from tests.conftest import start_hub
from tests.support import postgres, zipedit
from tests.support.dists import Members, read_wheel, write_zip
from tests.support.refusals import Ctx, Refusal, Send, World, check_refusal, form_parts, multipart
from tests.support.sigstore_instance import SigstoreInstance
from tests.support.zip64 import Zip64Spots, get_u64, put_u64, write_zip64
from tests.support.zipedit import Layout

# Tight caps, so that the size rules are reached with archives of a few megabytes; the example
# distributions are a few kilobytes with five members, far inside them.
LIMITS = UploadLimits(
    max_file_size=2_000_000,
    max_archive_members=60,
    max_uncompressed_size=6_000_000,
    bomb_floor=1_000_000,
    bomb_ratio=50,
)


def _start_world(
    root: Path, url: str, dists: dict[str, Path], sigstore: SigstoreInstance
) -> Iterator[World]:
    live = start_hub(
        root,
        url,
        uploads=LIMITS,
        sigstore_trust_root=sigstore.trusted_root,
        download_flush_interval=3600.0,  # no background write between two snapshots
    )
    try:
        with httpx.Client(base_url=live.url, timeout=60) as http:
            alice, mallory = live.user_with_token("alice"), live.user_with_token("mallory")
            yield World(live, http, dists, root / "cases", alice, mallory)
    finally:
        live.stop()


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory,
    example_dists: dict[str, Path],
    sigstore: SigstoreInstance,
) -> Iterator[World]:
    """The module's hub on SQLite: for the rules that refuse before any database write."""
    root = tmp_path_factory.mktemp("refusals-sqlite")
    yield from _start_world(
        root, f"sqlite+aiosqlite:///{root / 'hub.sqlite3'}", example_dists, sigstore
    )


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def db_world(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    example_dists: dict[str, Path],
    sigstore: SigstoreInstance,
) -> Iterator[World]:
    """The same hub, and one on PostgreSQL: for the rules that read the database or write to it
    and roll back (names, permission, duplicates)."""
    if request.param == "sqlite":
        yield request.getfixturevalue("world")
        return
    pg: postgres.PostgresServer = request.getfixturevalue("pg_server")
    root = tmp_path_factory.mktemp("refusals-postgres")
    url = pg.create_database(f"refusals_{root.name.replace('-', '_')}")
    yield from _start_world(root, url, example_dists, sigstore)


# -- helpers ------------------------------------------------------------------------------------


def low_entropy(size: int, seed: int) -> bytes:
    """Random a/b bytes: they deflate about 6:1, like real files and unlike a bomb's zeros."""
    table = bytes(0x61 + (i & 1) for i in range(256))
    return random.Random(seed).randbytes(size).translate(table)


def incompressible(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def member(suffix: str) -> Callable[[Members], str]:
    return lambda m: next(k for k in m if k.endswith(suffix))


METADATA = member(".dist-info/METADATA")
RECORD = member(".dist-info/RECORD")
ENTRY_POINTS = member(".dist-info/entry_points.txt")


def edit_member(
    pick: Callable[[Members], str], fn: Callable[[bytes], bytes]
) -> Callable[[Members], None]:
    def mutate(m: Members) -> None:
        key = pick(m)
        m[key] = fn(m[key])

    return mutate


def add_members(extra: dict[str, bytes]) -> Callable[[Members], None]:
    return lambda m: m.update(extra)


def drop(pick: Callable[[Members], str]) -> Callable[[Members], None]:
    def mutate(m: Members) -> None:
        del m[pick(m)]

    return mutate


def drop_all(part: str) -> Callable[[Members], None]:
    def mutate(m: Members) -> None:
        for key in [k for k in m if part in k]:
            del m[key]

    return mutate


def wheel_with(ctx: Ctx, *extra: tuple[zipfile.ZipInfo | str, bytes]) -> Path:
    """The case's wheel with members added as given (a ZipInfo sets mode or compression);
    RECORD is not updated, and need not be: these rules are checked before it."""
    wheel = ctx.wheel()
    out = ctx.work / "with" / wheel.name
    out.parent.mkdir(exist_ok=True)
    return write_zip(out, [*read_wheel(wheel).items(), *extra])


def tar_entry(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


def edit_zip(edit: Callable[[bytes, Layout], bytes]) -> Callable[[Ctx], Send]:
    """A case whose wheel is the real one with its bytes edited."""
    return lambda ctx: Send(ctx.edited(ctx.wheel(), edit))


def rename_init(
    new_tail: bytes, *, central: bool = True, local: bool = True
) -> Callable[[Ctx], Send]:
    """The `__init__.py` member renamed (same length) to end with `new_tail` (3 bytes)."""

    def edit(data: bytes, lay: Layout) -> bytes:
        i = lay.index_of("__init__.py")
        new = lay.members[i].name[:-3] + new_tail
        return zipedit.rename(data, lay, i, new, central=central, local=local)

    return edit_zip(edit)


def field(
    record: str, name: str, value: int, *, of: str = "__init__.py", add: bool = False
) -> Callable[[bytes, Layout], bytes]:
    """Set (or, with `add`, move) one header field: of the end record, or of member `of`."""

    def edit(data: bytes, lay: Layout) -> bytes:
        index = lay.index_of(of) if record in ("local", "central") else 0
        if add:
            return zipedit.add_to_field(data, lay, record, name, value, index)
        return zipedit.set_field(data, lay, record, name, value, index)

    return edit


def both(*edits: Callable[[bytes, Layout], bytes]) -> Callable[[bytes, Layout], bytes]:
    def edit(data: bytes, lay: Layout) -> bytes:
        for one in edits:
            data = one(data, lay)
        return data

    return edit


def first_data_byte(value: int, of: str) -> Callable[[bytes, Layout], bytes]:
    """Overwrite the first byte of a member's compressed data (0xFF: a reserved deflate block)."""

    def edit(data: bytes, lay: Layout) -> bytes:
        i = lay.index_of(of)
        name_len = zipedit.get_field(data, lay, "local", "name_length", i)
        extra_len = zipedit.get_field(data, lay, "local", "extra_length", i)
        at = lay.members[i].local_at + 30 + name_len + extra_len
        return data[:at] + bytes([value]) + data[at + 1 :]

    return edit


def zip64(lie: Callable[[bytes, Zip64Spots], bytes]) -> Callable[[Ctx], Send]:
    """The case's wheel rewritten with Zip64 records throughout, then one value made to lie."""

    def send(ctx: Ctx) -> Send:
        wheel = ctx.wheel()
        data, spots = write_zip64(list(read_wheel(wheel).items()))
        out = ctx.work / "zip64" / wheel.name
        out.parent.mkdir()
        out.write_bytes(lie(data, spots))
        return Send(out)

    return send


# -- framing: exactly one well-formed zip, readable to the last byte ------------------------------

FRAMING: list[Refusal] = [
    Refusal(
        "bytes-before",
        400,
        "archive.framing",
        edit_zip(lambda d, _: b"#!/bin/sh\n" + d),
        says="bytes come before the first local file header",
    ),
    Refusal(
        "bytes-after",
        400,
        "archive.framing",
        edit_zip(lambda d, _: d + b"trailing"),
        says="not the last 22 bytes",
    ),
    Refusal(
        "two-archives",
        400,
        "archive.framing",
        edit_zip(lambda d, _: d + d),
        says="does not end at the end record",
    ),
    Refusal(
        "zip-comment",
        400,
        "archive.framing",
        edit_zip(lambda d, lay: field("end", "comment_length", 6)(d, lay) + b"hidden"),
        says="not the last 22 bytes",
    ),
    Refusal(
        "nul-in-name",
        400,
        "archive.framing",
        rename_init(b"\x00py"),
        says="NUL or control character",
    ),
    Refusal(
        "escape-in-name",
        400,
        "archive.framing",
        rename_init(b"\x1bpy"),
        says="NUL or control character",
    ),
    Refusal(
        "del-in-name",
        400,
        "archive.framing",
        rename_init(b"\x7fpy"),
        says="NUL or control character",
    ),
    Refusal(
        "names-differ",
        400,
        "archive.framing",
        rename_init(b"pyx", central=False),
        says="central directory name",
    ),
    Refusal(
        "count-too-high",
        400,
        "archive.framing",
        edit_zip(
            both(
                field("end", "entries_here", 1, add=True),
                field("end", "entries_total", 1, add=True),
            )
        ),
        says="shorter than its entry count",
    ),
    Refusal(
        "count-too-low",
        400,
        "archive.framing",
        edit_zip(
            both(
                field("end", "entries_here", -1, add=True),
                field("end", "entries_total", -1, add=True),
            )
        ),
        says="holds more than its entries",
    ),
    Refusal(
        "counts-differ",
        400,
        "archive.framing",
        edit_zip(field("end", "entries_here", -1, add=True)),
        says="multi-disk",
    ),
    Refusal(
        "multi-disk", 400, "archive.framing", edit_zip(field("end", "disk", 1)), says="multi-disk"
    ),
    Refusal(
        "cd-offset-off",
        400,
        "archive.framing",
        edit_zip(field("end", "cd_offset", 1, add=True)),
        says="does not end at the end record",
    ),
    Refusal(
        "cd-size-off",
        400,
        "archive.framing",
        edit_zip(field("end", "cd_size", -1, add=True)),
        says="does not end at the end record",
    ),
    Refusal(
        "local-offset-into-data",
        400,
        "archive.framing",
        edit_zip(field("central", "local_offset", 5, add=True, of="METADATA")),
        says="bytes hide before, or overlap",
    ),
    Refusal(
        "local-signature",
        400,
        "archive.framing",
        edit_zip(field("local", "signature", 0x04034B51, of="METADATA")),
        says="is missing",
    ),
    Refusal(
        "gap-between-members",
        400,
        "archive.framing",
        edit_zip(lambda d, lay: zipedit.insert_before_member(d, lay, 2, b"hidden payload")),
        says="bytes hide before, or overlap",
    ),
    Refusal(
        "gap-before-central-directory",
        400,
        "archive.framing",
        edit_zip(lambda d, lay: zipedit.insert_before_cd(d, lay, b"hidden payload")),
        says="between the last member and the central directory",
    ),
    Refusal(
        "local-size-disagrees",
        400,
        "archive.framing",
        edit_zip(field("local", "compressed_size", 1, add=True, of="METADATA")),
        says="central directory size",
    ),
    Refusal(
        "descriptor-flag-disagrees",
        400,
        "archive.framing",
        edit_zip(field("local", "flags", 0x08, of="METADATA")),
        says="disagree",
    ),
    Refusal(
        "central-entry-dropped",
        400,
        "archive.framing",
        edit_zip(lambda d, lay: zipedit.drop_central_entry(d, lay, 1, fix_end=True)),
        says="bytes hide before, or overlap",
    ),
    Refusal(
        "members-swapped-offsets-stale",
        400,
        "archive.framing",
        edit_zip(lambda d, lay: zipedit.swap_members(d, lay, 0, 1, fix_offsets=False)),
        says="central directory name",
    ),
    Refusal(
        "truncated",
        400,
        "archive.framing",
        edit_zip(lambda d, _: d[: len(d) // 2]),
        says="not the last 22 bytes",
    ),
    Refusal("too-short", 400, "archive.framing", edit_zip(lambda d, _: d[:40]), says="too short"),
    Refusal(
        "zip64-locator-elsewhere",
        400,
        "archive.framing",
        zip64(lambda d, s: put_u64(d, s.locator_at + 8, get_u64(d, s.locator_at + 8) - 8)),
        says="not where its locator says",
    ),
    Refusal(
        "zip64-extra-size-lies",
        400,
        "archive.framing",
        zip64(
            lambda d, s: put_u64(d, s.central_extra[1][1], get_u64(d, s.central_extra[1][1]) + 1)
        ),
        says="central directory size",
    ),
    Refusal(
        "zip64-end-records-disagree",
        400,
        "archive.framing",
        zip64(lambda d, s: zipedit.set_field(d, zipedit.layout(d), "end", "cd_offset", 0)),
        says="the Zip64 end record disagree",
    ),
    # Readable framing, unreadable contents: zipfile's own errors become archive.corrupt.
    Refusal(
        "bad-crc",
        400,
        "archive.corrupt",
        edit_zip(field("central", "crc", 1, add=True)),
        says="Bad CRC-32",
    ),
    Refusal(
        "bad-crc-of-record",
        400,
        "archive.corrupt",
        edit_zip(field("central", "crc", 1, add=True, of="RECORD")),
        says="Bad CRC-32",
    ),
    Refusal(
        "broken-deflate",
        400,
        "archive.corrupt",
        edit_zip(first_data_byte(0xFF, "__init__.py")),
        says="invalid block type",
    ),
    Refusal(
        "broken-deflate-of-record",
        400,
        "archive.corrupt",
        edit_zip(first_data_byte(0xFF, "RECORD")),
        says="invalid block type",
    ),
    Refusal(
        "encrypted-member",
        400,
        "archive.corrupt",
        edit_zip(field("central", "flags", 0x01)),
        says="is encrypted",
    ),
    Refusal(
        "patched-data-member",
        400,
        "archive.corrupt",
        edit_zip(field("central", "flags", 0x20)),
        says="patched data",
    ),
    Refusal(
        "unknown-zip-version",
        400,
        "archive.corrupt",
        edit_zip(field("central", "version_needed", 99)),
        says="zip file version 9.9",
    ),
    Refusal(
        "utf8-flag-on-a-latin1-name",
        400,
        "archive.corrupt",
        edit_zip(
            both(
                lambda d, lay: zipedit.rename(
                    d,
                    lay,
                    lay.index_of("__init__.py"),
                    lay.members[lay.index_of("__init__.py")].name[:-3] + b"\xe9py",
                    central=True,
                    local=True,
                ),
                field("central", "flags", 0x800),
            )
        ),
        says="can't decode byte 0xe9",
    ),
]


# -- bombs and size caps ------------------------------------------------------------------------


def _spread(n: int, each: int) -> dict[str, bytes]:
    return {f"pkg_data/part{i}.bin": low_entropy(each, i) for i in range(n)}


SIZES: list[Refusal] = [
    Refusal(
        "wheel-bomb",
        400,
        "archive.bomb",
        lambda ctx: Send(ctx.wheel(mutate=add_members({"pkg_data/zeros.bin": bytes(3_000_000)}))),
    ),
    Refusal(
        "sdist-bomb",
        400,
        "archive.bomb",
        lambda ctx: Send(ctx.sdist(mutate=add_members({"zeros.bin": bytes(3_000_000)}))),
    ),
    Refusal(
        "wheel-total-over-cap",
        400,
        "archive.too_large_uncompressed",
        lambda ctx: Send(ctx.wheel(mutate=add_members(_spread(10, 650_000)))),
        says="expands to more than",
    ),
    Refusal(
        "sdist-total-over-cap",
        400,
        "archive.too_large_uncompressed",
        lambda ctx: Send(ctx.sdist(mutate=add_members(_spread(10, 650_000)))),
        says="expands to more than",
    ),
    Refusal(
        "wheel-member-over-cap",
        400,
        "archive.too_large_uncompressed",
        lambda ctx: Send(ctx.wheel(mutate=add_members({"pkg_data/big.bin": bytes(6_100_000)}))),
        says="declares 6100000 bytes",
    ),
    Refusal(
        "sdist-member-over-cap",
        400,
        "archive.too_large_uncompressed",
        lambda ctx: Send(ctx.sdist(mutate=add_members({"big.bin": bytes(6_100_000)}))),
        says="big.bin' is too large",
    ),
    Refusal(
        "wheel-too-many-members",
        400,
        "archive.too_many_members",
        lambda ctx: Send(ctx.wheel(mutate=add_members({f"pkg/m{i}.py": b"" for i in range(60)}))),
    ),
    Refusal(
        "sdist-too-many-members",
        400,
        "archive.too_many_members",
        lambda ctx: Send(ctx.sdist(mutate=add_members({f"src/m{i}.py": b"" for i in range(60)}))),
    ),
    Refusal(
        "wheel-metadata-too-large",
        400,
        "archive.metadata_too_large",
        lambda ctx: Send(
            ctx.wheel(mutate=edit_member(METADATA, lambda b: b + low_entropy(4_300_000, 1)))
        ),
    ),
    Refusal(
        "sdist-metadata-too-large",
        400,
        "archive.metadata_too_large",
        lambda ctx: Send(
            ctx.sdist(
                mutate=edit_member(member("PKG-INFO"), lambda b: b + low_entropy(4_300_000, 2))
            )
        ),
    ),
    Refusal(
        "file-over-cap",
        413,
        "upload.too_large",
        lambda ctx: Send(
            ctx.wheel(mutate=add_members({"pkg_data/noise.bin": incompressible(2_100_000, 3)}))
        ),
    ),
    Refusal(
        "field-over-cap",
        413,
        "form.field_too_large",
        lambda ctx: Send(ctx.wheel(), fields={"summary": "s" * 70_000}),
    ),
    Refusal(
        "description-field-over-cap",
        413,
        "form.field_too_large",
        lambda ctx: Send(
            ctx.wheel(), fields={"description": "d" * (LIMITS.max_description_size + 1)}
        ),
    ),
]


# -- filenames and versions -----------------------------------------------------------------------

TAGS = "py3-none-any"


def named(
    filename: Callable[[Ctx], str], *, sdist: bool = False, version: str = "1.0.0"
) -> Callable[[Ctx], Send]:
    """The case's real file, sent under another filename (the form fields describe the file)."""

    def send(ctx: Ctx) -> Send:
        real = ctx.sdist(version) if sdist else ctx.wheel(version)
        return Send(real, filename=filename(ctx))

    return send


FILENAMES: list[Refusal] = [
    Refusal("zip-extension", 400, "filename.extension", named(lambda c: f"{c.stem()}.zip")),
    Refusal("egg-extension", 400, "filename.extension", named(lambda c: f"{c.stem()}-py3.11.egg")),
    Refusal(
        "tar-bz2-extension",
        400,
        "filename.extension",
        named(lambda c: f"{c.stem()}.tar.bz2", sdist=True),
    ),
    Refusal(
        "wheel-without-tags",
        400,
        "filename.invalid",
        named(lambda c: f"{c.stem()}.whl"),
        says="wrong number of parts",
    ),
    Refusal(
        "wheel-missing-a-tag",
        400,
        "filename.invalid",
        named(lambda c: f"{c.stem()}-py3-none.whl"),
        says="wrong number of parts",
    ),
    Refusal(
        "wheel-version-not-pep440",
        400,
        "filename.invalid",
        named(lambda c: f"{c.stem_name}-one-{TAGS}.whl"),
        says="invalid version",
    ),
    Refusal(
        "sdist-without-version",
        400,
        "filename.invalid",
        named(lambda c: f"{c.stem_name}.tar.gz", sdist=True),
    ),
    Refusal(
        "sdist-version-not-pep440",
        400,
        "filename.invalid",
        named(lambda c: f"{c.stem_name}-one.tar.gz", sdist=True),
        says="invalid version",
    ),
    Refusal(
        "backslash-in-filename",
        400,
        "filename.characters",
        lambda ctx: Send(ctx.wheel(), filename=f"dist\\{ctx.wheel().name}"),
        says="may hold only ASCII letters",
    ),
    Refusal(
        "filename-too-long",
        400,
        "filename.too_long",
        named(lambda c: f"{c.stem()}-{'.'.join(['py3'] * 70)}-none-any.whl"),
    ),
    Refusal(
        "version-too-long",
        400,
        "version.too_long",
        lambda ctx: Send(ctx.wheel("1.0.0" + ".0" * 31)),
    ),
    Refusal(
        "version-not-normalized",
        400,
        "filename.version_not_normalized",
        named(lambda c: f"{c.stem_name}-1.00-{TAGS}.whl", version="1.0"),
    ),
    Refusal(
        "version-with-a-v",
        400,
        "filename.version_not_normalized",
        named(lambda c: f"{c.stem_name}-v1.0-{TAGS}.whl", version="1.0"),
    ),
    Refusal(
        "sdist-version-not-normalized",
        400,
        "filename.version_not_normalized",
        named(lambda c: f"{c.stem_name}-1.00.tar.gz", sdist=True, version="1.0"),
    ),
    Refusal("local-version", 400, "version.local", lambda ctx: Send(ctx.wheel("1.0.0+local.1"))),
    Refusal(
        "sdist-local-version", 400, "version.local", lambda ctx: Send(ctx.sdist("1.0.0+local.1"))
    ),
]


# -- digests ------------------------------------------------------------------------------------

NO_DIGESTS = {"sha256_digest": None, "blake2_256_digest": None}


DIGESTS: list[Refusal] = [
    Refusal(
        "sha256-mismatch",
        400,
        "digest.mismatch",
        lambda ctx: Send(ctx.wheel(), fields={"sha256_digest": "0" * 64}),
    ),
    Refusal(
        "blake2-mismatch",
        400,
        "digest.mismatch",
        lambda ctx: Send(ctx.wheel(), fields={"blake2_256_digest": "1" * 64}),
    ),
    Refusal(
        "md5-mismatch",
        400,
        "digest.mismatch",
        lambda ctx: Send(ctx.wheel(), fields={"md5_digest": "2" * 32}),
    ),
    Refusal("no-digest", 400, "digest.missing", lambda ctx: Send(ctx.wheel(), fields=NO_DIGESTS)),
    Refusal(
        "blank-digest",
        400,
        "digest.missing",
        lambda ctx: Send(ctx.wheel(), fields={**NO_DIGESTS, "md5_digest": "  "}),
    ),
    Refusal(
        "bytes-changed-in-transit",
        400,
        "digest.mismatch",
        lambda ctx: (w := ctx.wheel()) and Send(w, content=w.read_bytes() + b"x"),
    ),
    Refusal(
        "empty-file",
        400,
        "upload.empty",
        lambda ctx: Send(ctx.file(f"{ctx.stem()}-{TAGS}.whl", b"")),
    ),
]


# -- the form: its envelope, and its agreement with the file ---------------------------------------


def raw_form(
    parts: Callable[[Ctx, Path], list[tuple[str | None, bytes | str, str | None]]],
) -> Callable[[Ctx], Send]:
    def send(ctx: Ctx) -> Send:
        wheel = ctx.wheel()
        return Send(raw=multipart(*parts(ctx, wheel)))

    return send


def _content(wheel: Path, filename: str | None = "") -> tuple[str, bytes, str | None]:
    return ("content", wheel.read_bytes(), wheel.name if filename == "" else filename)


FORM: list[Refusal] = [
    Refusal(
        "name-mismatch",
        400,
        "form.name_mismatch",
        lambda ctx: Send(ctx.wheel(), fields={"name": "other-thing"}),
    ),
    Refusal(
        "version-mismatch",
        400,
        "form.version_mismatch",
        lambda ctx: Send(ctx.wheel(), fields={"version": "2.0"}),
    ),
    Refusal(
        "version-not-pep440",
        400,
        "version.invalid",
        lambda ctx: Send(ctx.wheel(), fields={"version": "one"}),
    ),
    Refusal(
        "version-too-long",
        400,
        "version.invalid",
        lambda ctx: Send(ctx.wheel(), fields={"version": "1" * 65}),
    ),
    Refusal(
        "filetype-sdist-for-a-wheel",
        400,
        "form.filetype_mismatch",
        lambda ctx: Send(ctx.wheel(), fields={"filetype": "sdist"}),
    ),
    Refusal(
        "filetype-wheel-for-an-sdist",
        400,
        "form.filetype_mismatch",
        lambda ctx: Send(ctx.sdist(), fields={"filetype": "bdist_wheel"}),
    ),
    Refusal(
        "wrong-action",
        400,
        "form.action",
        lambda ctx: Send(ctx.wheel(), fields={":action": "submit"}),
    ),
    Refusal(
        "protocol-version-2",
        400,
        "form.protocol_version",
        lambda ctx: Send(ctx.wheel(), fields={"protocol_version": "2"}),
    ),
    Refusal("missing-name", 400, "form.name", lambda ctx: Send(ctx.wheel(), fields={"name": None})),
    Refusal(
        "missing-version",
        400,
        "form.version",
        lambda ctx: Send(ctx.wheel(), fields={"version": None}),
    ),
    Refusal("missing-content", 400, "form.content", raw_form(lambda ctx, w: form_parts(w))),
    Refusal(
        "content-without-filename",
        400,
        "form.content",
        raw_form(lambda ctx, w: [*form_parts(w), _content(w, None)]),
    ),
    Refusal(
        "two-content-parts",
        400,
        "form.content",
        raw_form(lambda ctx, w: [*form_parts(w), _content(w), _content(w)]),
    ),
    Refusal(
        "part-without-a-name",
        400,
        "form.part_name",
        raw_form(lambda ctx, w: [*form_parts(w), (None, "x", None), _content(w)]),
    ),
    Refusal(
        "field-not-utf8",
        400,
        "form.encoding",
        raw_form(lambda ctx, w: [*form_parts(w), ("summary", b"caf\xe9", None), _content(w)]),
    ),
    Refusal(
        "body-cut-short",
        400,
        "form.truncated",
        lambda ctx: Send(
            raw=(
                multipart(*form_parts(ctx.wheel()), _content(ctx.wheel()))[0][:-40],
                multipart()[1],
            )
        ),
    ),
    Refusal(
        "not-multipart",
        400,
        "form.content_type",
        lambda ctx: Send(raw=(b":action=file_upload&name=x", "application/x-www-form-urlencoded")),
    ),
]


# -- core metadata and entry points ---------------------------------------------------------------


def replace_in(pick: Callable[[Members], str], old: bytes, new: bytes) -> Callable[[Members], None]:
    def fn(data: bytes) -> bytes:
        assert old in data, (old, data[:200])
        return data.replace(old, new, 1)

    return edit_member(pick, fn)


def metadata_line(ctx_field: str, new: Callable[[Ctx], str]) -> Callable[[Ctx], Send]:
    """The wheel with one METADATA header line (after its first) changed."""

    def send(ctx: Ctx) -> Send:
        def fn(data: bytes) -> bytes:
            lines = data.split(b"\n")
            i = next(
                i for i, line in enumerate(lines) if line.startswith(f"{ctx_field}: ".encode())
            )
            lines[i] = new(ctx).encode()
            return b"\n".join(lines)

        return Send(ctx.wheel(mutate=edit_member(METADATA, fn)))

    return send


PYPROJECT = member("pyproject.toml")
PKG_INFO = member("PKG-INFO")

METADATA_RULES: list[Refusal] = [
    Refusal(
        "requires-python-invalid",
        400,
        "metadata.invalid",
        lambda ctx: Send(
            ctx.wheel(
                mutate=replace_in(METADATA, b"Requires-Python: >=3.9", b"Requires-Python: >=three")
            )
        ),
    ),
    Refusal(
        "name-field-missing",
        400,
        "metadata.invalid",
        metadata_line("Name", lambda c: "X-Removed: name"),
        says="'name' is a required field",
    ),
    Refusal(
        "not-utf8",
        400,
        "metadata.invalid",
        lambda ctx: Send(ctx.wheel(mutate=edit_member(METADATA, lambda b: b"\xff\xfe" + b))),
    ),
    Refusal(
        "name-mismatch",
        400,
        "metadata.name_mismatch",
        metadata_line("Name", lambda c: "Name: other-name"),
    ),
    Refusal(
        "version-mismatch",
        400,
        "metadata.version_mismatch",
        metadata_line("Version", lambda c: "Version: 9.9.9"),
    ),
    Refusal(
        "sdist-version-mismatch",
        400,
        "metadata.version_mismatch",
        lambda ctx: Send(
            ctx.sdist(mutate=replace_in(PKG_INFO, b"Version: 1.0.0", b"Version: 9.9.9"))
        ),
    ),
    Refusal(
        "direct-url-dependency",
        400,
        "metadata.direct_url",
        lambda ctx: Send(
            ctx.wheel(
                mutate=replace_in(
                    METADATA,
                    b"Requires-Dist: pyspark",
                    b"Requires-Dist: evil @ https://example.org/e.whl\nRequires-Dist: pyspark",
                )
            )
        ),
    ),
    Refusal(
        "no-entry-points",
        400,
        "component.not_pysetl",
        lambda ctx: Send(ctx.wheel(mutate=drop(ENTRY_POINTS))),
    ),
    Refusal(
        "entry-points-in-another-group",
        400,
        "component.not_pysetl",
        lambda ctx: Send(
            ctx.wheel(
                mutate=edit_member(
                    ENTRY_POINTS, lambda _: b"[console_scripts]\ndedupe = csv_dedupe:main\n"
                )
            )
        ),
    ),
    Refusal(
        "entry-points-unparseable",
        400,
        "archive.entry_points",
        lambda ctx: Send(ctx.wheel(mutate=edit_member(ENTRY_POINTS, lambda b: b"[unclosed\n" + b))),
    ),
    Refusal(
        "sdist-no-entry-points",
        400,
        "component.not_pysetl",
        lambda ctx: Send(
            ctx.sdist(
                mutate=replace_in(
                    PYPROJECT, b'[project.entry-points."pysetl.factories"]', b"[tool.elsewhere]"
                )
            )
        ),
    ),
    Refusal(
        "sdist-pyproject-unparseable",
        400,
        "archive.pyproject",
        lambda ctx: Send(ctx.sdist(mutate=edit_member(PYPROJECT, lambda b: b + b"\n[project\n"))),
    ),
    Refusal(  # a crash (AttributeError, 500) until the sdist reader checked the type
        "sdist-project-not-a-table",
        400,
        "component.not_pysetl",
        lambda ctx: Send(ctx.sdist(mutate=edit_member(PYPROJECT, lambda _: b'project = "x"\n'))),
    ),
]


# -- archive members: paths, links, duplicates, compression, .dist-info and RECORD --------------


def _info(name: str, *, mode: int = 0, compress: int = zipfile.ZIP_DEFLATED) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = mode << 16
    info.compress_type = compress
    return info


def rename_dist_info(m: Members) -> None:
    for key in [k for k in m if ".dist-info/" in k]:
        m["other_project-1.0.0.dist-info/" + key.split(".dist-info/", 1)[1]] = m.pop(key)


def record_row(change: Callable[[list[bytes]], bytes]) -> Callable[[Ctx], Send]:
    """The wheel with the RECORD row of `__init__.py` rewritten from its three columns."""

    def fn(record: bytes) -> bytes:
        lines = record.split(b"\n")
        i = next(i for i, line in enumerate(lines) if line.split(b",")[0].endswith(b"__init__.py"))
        lines[i] = change(lines[i].split(b","))
        return b"\n".join(lines)

    return lambda ctx: Send(ctx.wheel(tamper=edit_member(RECORD, fn)))


MEMBERS: list[Refusal] = [
    Refusal(
        "absolute-path",
        400,
        "archive.path",
        lambda ctx: Send(wheel_with(ctx, ("/etc/passwd", b"x"))),
        says="absolute or Windows path",
    ),
    Refusal(
        "dotdot-path",
        400,
        "archive.path",
        lambda ctx: Send(wheel_with(ctx, ("pkg/../../evil.py", b"x"))),
        says="escapes the archive",
    ),
    Refusal(
        "backslash-path",
        400,
        "archive.path",
        lambda ctx: Send(wheel_with(ctx, ("pkg\\win.py", b"x"))),
        says="absolute or Windows path",
    ),
    Refusal(
        "drive-letter",
        400,
        "archive.path",
        lambda ctx: Send(wheel_with(ctx, ("C:/evil.py", b"x"))),
        says="absolute or Windows path",
    ),
    Refusal(
        "symlink",
        400,
        "archive.link",
        lambda ctx: Send(
            wheel_with(ctx, (_info("pkg/link.py", mode=stat.S_IFLNK | 0o777), b"/etc/passwd"))
        ),
        says="symlink or special file",
    ),
    Refusal(
        "fifo",
        400,
        "archive.link",
        lambda ctx: Send(wheel_with(ctx, (_info("pkg/pipe", mode=stat.S_IFIFO | 0o644), b""))),
        says="symlink or special file",
    ),
    Refusal(
        "bzip2-member",
        400,
        "archive.compression",
        lambda ctx: Send(
            wheel_with(ctx, (_info("pkg/b.py", compress=zipfile.ZIP_BZIP2), b"x = 1"))
        ),
        says="compression method 12",
    ),
    Refusal(
        "lzma-member",
        400,
        "archive.compression",
        lambda ctx: Send(wheel_with(ctx, (_info("pkg/l.py", compress=zipfile.ZIP_LZMA), b"x = 1"))),
        says="compression method 14",
    ),
    Refusal(
        "duplicate-member",
        400,
        "archive.duplicate",
        lambda ctx: Send(
            ctx.edited(
                wheel_with(ctx, ("csv_dedupe/__init__.pz", b"print('evil')")),
                lambda d, lay: zipedit.rename(
                    d,
                    lay,
                    lay.index_of("__init__.pz"),
                    b"csv_dedupe/__init__.py",
                    central=True,
                    local=True,
                ),
            )
        ),
    ),
    Refusal(
        "no-dist-info",
        400,
        "archive.dist_info",
        lambda ctx: Send(ctx.wheel(mutate=drop_all(".dist-info/"))),
        says="found 0",
    ),
    Refusal(
        "two-dist-infos",
        400,
        "archive.dist_info",
        lambda ctx: Send(
            ctx.wheel(mutate=add_members({"other-1.0.dist-info/METADATA": b"Name: other\n"}))
        ),
        says="found 2",
    ),
    Refusal(
        "dist-info-of-another-project",
        400,
        "archive.dist_info",
        lambda ctx: Send(ctx.wheel(mutate=rename_dist_info)),
        says="does not match its filename",
    ),
    Refusal(
        "wheel-file-missing",
        400,
        "archive.dist_info",
        lambda ctx: Send(ctx.wheel(mutate=drop(member(".dist-info/WHEEL")))),
        says="WHEEL is missing",
    ),
    Refusal(
        "record-missing",
        400,
        "archive.dist_info",
        lambda ctx: Send(ctx.wheel(tamper=drop(RECORD))),
        says="RECORD is missing",
    ),
    Refusal(
        "record-hash-mismatch",
        400,
        "archive.record",
        lambda ctx: Send(ctx.wheel(tamper=edit_member(member("__init__.py"), lambda b: b + b"#"))),
        says="RECORD's hash",
    ),
    Refusal(
        "file-not-in-record",
        400,
        "archive.record",
        lambda ctx: Send(ctx.wheel(tamper=add_members({"csv_dedupe/sneaky.py": b"x = 1\n"}))),
        says="not in RECORD",
    ),
    Refusal(
        "record-lists-a-missing-file",
        400,
        "archive.record",
        lambda ctx: Send(
            ctx.wheel(
                tamper=edit_member(RECORD, lambda b: b + b"csv_dedupe/ghost.py,sha256=AAAA,4\n")
            )
        ),
        says="RECORD lists files",
    ),
    Refusal(
        "record-row-two-columns",
        400,
        "archive.record",
        record_row(lambda cols: b",".join(cols[:2])),
        says="does not have 3 columns",
    ),
    Refusal(
        "record-md5",
        400,
        "archive.record",
        record_row(lambda cols: b",".join([cols[0], b"md5=" + cols[1][7:], cols[2]])),
        says="RECORD's hash",
    ),
    Refusal(
        "record-size-wrong",
        400,
        "archive.record",
        record_row(lambda cols: b",".join([*cols[:2], b"1"])),
        says="RECORD's size",
    ),
    Refusal(
        "record-size-not-a-number",
        400,
        "archive.record",
        record_row(lambda cols: b",".join([*cols[:2], b"many"])),
        says="RECORD does not parse",
    ),
    Refusal(
        "record-not-utf8",
        400,
        "archive.record",
        lambda ctx: Send(ctx.wheel(tamper=edit_member(RECORD, lambda b: b"\xff" + b))),
        says="RECORD does not parse",
    ),
    Refusal(
        "sdist-symlink",
        400,
        "archive.link",
        lambda ctx: Send(
            ctx.sdist(
                extra=[(tar_entry(f"{ctx.stem()}/link", tarfile.SYMTYPE, "/etc/passwd"), b"")]
            )
        ),
        says="link or special file",
    ),
    Refusal(
        "sdist-hardlink",
        400,
        "archive.link",
        lambda ctx: Send(
            ctx.sdist(
                extra=[
                    (
                        tar_entry(f"{ctx.stem()}/hard", tarfile.LNKTYPE, f"{ctx.stem()}/PKG-INFO"),
                        b"",
                    )
                ]
            )
        ),
        says="link or special file",
    ),
    Refusal(
        "sdist-device",
        400,
        "archive.link",
        lambda ctx: Send(ctx.sdist(extra=[(tar_entry(f"{ctx.stem()}/dev", tarfile.CHRTYPE), b"")])),
        says="link or special file",
    ),
    Refusal(
        "sdist-dotdot",
        400,
        "archive.path",
        lambda ctx: Send(ctx.sdist(extra=[(tar_entry(f"{ctx.stem()}/../../escape.txt"), b"x")])),
        says="escapes the archive",
    ),
    Refusal(
        "sdist-absolute",
        400,
        "archive.path",
        lambda ctx: Send(ctx.sdist(extra=[(tar_entry("/etc/cron.d/evil"), b"x")])),
        says="absolute or Windows path",
    ),
    Refusal(
        "sdist-outside-top-directory",
        400,
        "archive.sdist_layout",
        lambda ctx: Send(ctx.sdist(extra=[(tar_entry("elsewhere/evil.py"), b"x")])),
        says="outside the top-level directory",
    ),
    Refusal(
        "sdist-without-pkg-info",
        400,
        "archive.sdist_layout",
        lambda ctx: Send(ctx.sdist(mutate=drop(lambda m: "PKG-INFO"))),
        says="PKG-INFO is missing",
    ),
    Refusal(
        "sdist-duplicate-member",
        400,
        "archive.duplicate",
        lambda ctx: Send(ctx.sdist(extra=[(tar_entry(f"{ctx.stem()}/README.md"), b"again")])),
    ),
    Refusal(
        "sdist-not-gzip",
        400,
        "archive.corrupt",
        lambda ctx: Send(ctx.file(f"{ctx.stem()}.tar.gz", b"this is not a gzip stream at all")),
    ),
]


# -- names ----------------------------------------------------------------------------------------


def lookalike(other: Callable[[str], str], *, sdist: bool = False) -> Callable[[Ctx], Send]:
    """mallory owns `<case>-victim`; alice's new component has a name that folds to the same."""

    def send(ctx: Ctx) -> Send:
        victim = f"{ctx.name}-victim"
        ctx.publish(ctx.wheel(name=victim), token=ctx.mallory)
        name = other(victim)
        return Send(ctx.sdist(name=name) if sdist else ctx.wheel(name=name))

    return send


def misspelled(spell: Callable[[str], str], *, sdist: bool = False) -> Callable[[Ctx], Send]:
    """A legacy spelling of a published file's name with other bytes: the hub stores every file
    under the normalized spelling, so this is the same filename reused, not a second file."""

    def send(ctx: Ctx) -> Send:
        tail = ".tar.gz" if sdist else f"-{TAGS}.whl"
        ctx.publish(ctx.sdist() if sdist else ctx.wheel())

        def rebuilt(m: Members) -> None:
            key = next(k for k in m if k.endswith(".py"))
            m[key] += b"\n# rebuilt\n"

        path = ctx.sdist(mutate=rebuilt) if sdist else ctx.wheel(mutate=rebuilt)
        renamed = path.parent / f"{spell(ctx.stem_name)}-1.0.0{tail}"
        path.rename(renamed)
        return Send(renamed)

    return send


NAMES: list[Refusal] = [
    Refusal(
        "lookalike-letters",
        409,
        "name.too_similar",
        lookalike(lambda v: v.replace("i", "1").replace("o", "0")),
    ),
    Refusal(
        "lookalike-separators", 409, "name.too_similar", lookalike(lambda v: v.replace("-", ""))
    ),
    Refusal(
        "lookalike-sdist",
        409,
        "name.too_similar",
        lookalike(lambda v: v.replace("-victim", "-v1ctim"), sdist=True),
    ),
    Refusal("wheel-uppercase", 409, "file.exists", misspelled(str.upper)),
    Refusal("wheel-dots", 409, "file.exists", misspelled(lambda n: n.replace("_", "."))),
    Refusal(
        "wheel-double-underscore",
        400,
        "filename.invalid",
        misspelled(lambda n: n.replace("_", "__")),
        says="Invalid project name",
    ),
    Refusal("sdist-uppercase", 409, "file.exists", misspelled(str.upper, sdist=True)),
    Refusal(
        "sdist-dashes", 409, "file.exists", misspelled(lambda n: n.replace("_", "-"), sdist=True)
    ),
]


# -- permission -----------------------------------------------------------------------------------


def owned_by_alice(then: Callable[[Ctx, Path], Send]) -> Callable[[Ctx], Send]:
    """alice publishes the case's wheel 1.0.0 first; `then` gets it."""

    def send(ctx: Ctx) -> Send:
        first = ctx.wheel("1.0.0")
        ctx.publish(first)
        return then(ctx, first)

    return send


def scoped_to_new(ctx: Ctx, _: Path) -> Send:
    scoped = ctx.live.user_with_token("alice", component=ctx.name)
    return Send(ctx.wheel(name=f"{ctx.name}-new"), auth=("__token__", scoped))


def scoped_to_sibling(ctx: Ctx, _: Path) -> Send:
    sibling = f"{ctx.name}-sibling"
    ctx.publish(ctx.wheel(name=sibling))
    scoped = ctx.live.user_with_token("alice", component=sibling)
    return Send(ctx.wheel("1.0.1"), auth=("__token__", scoped))


def revoked(ctx: Ctx) -> Send:
    token = ctx.live.user_with_token("alice")
    token_id = token.split("_")[1]

    async def revoke(hub: Hub) -> None:
        from datetime import UTC, datetime

        async with hub.sessions() as s:
            await s.execute(
                update(ApiToken)
                .where(ApiToken.token_id == token_id)
                .values(revoked_at=datetime.now(UTC))
            )
            await s.commit()

    ctx.live.run(revoke)
    return Send(ctx.wheel(), auth=("__token__", token))


PERMISSION: list[Refusal] = [
    Refusal(
        "another-users-component",
        403,
        "auth.role",
        owned_by_alice(lambda ctx, _: Send(ctx.wheel("1.0.1"), auth=("__token__", ctx.mallory))),
    ),
    Refusal(
        "another-users-exact-file",
        403,
        "auth.role",
        owned_by_alice(lambda ctx, first: Send(first, auth=("__token__", ctx.mallory))),
    ),
    Refusal(
        "another-users-sdist",
        403,
        "auth.role",
        owned_by_alice(lambda ctx, _: Send(ctx.sdist("1.0.0"), auth=("__token__", ctx.mallory))),
    ),
    Refusal("scoped-token-creates-a-component", 403, "auth.scope", owned_by_alice(scoped_to_new)),
    Refusal("token-scoped-to-a-sibling", 403, "auth.scope", owned_by_alice(scoped_to_sibling)),
    Refusal("no-credentials", 401, "auth.missing", lambda ctx: Send(ctx.wheel(), auth=None)),
    Refusal(
        "password-not-token",
        401,
        "auth.username",
        lambda ctx: Send(ctx.wheel(), auth=("alice", "password123")),
    ),
    Refusal(
        "malformed-token",
        401,
        "auth.token_format",
        lambda ctx: Send(ctx.wheel(), auth=("__token__", "nope")),
    ),
    Refusal(
        "unknown-token",
        401,
        "auth.invalid",
        lambda ctx: Send(ctx.wheel(), auth=("__token__", "pshub_0123456789abcdef_" + "A" * 43)),
    ),
    Refusal("revoked-token", 401, "auth.revoked", revoked),
]


# -- duplicates -----------------------------------------------------------------------------------


def published_then(
    then: Callable[[Ctx, Path], Send], *, sdist: bool = False
) -> Callable[[Ctx], Send]:
    def send(ctx: Ctx) -> Send:
        first = ctx.sdist() if sdist else ctx.wheel()
        ctx.publish(first)
        return then(ctx, first)

    return send


def other_bytes(ctx: Ctx, first: Path) -> Send:
    if first.name.endswith(".tar.gz"):
        return Send(ctx.sdist(mutate=add_members({"CHANGES.md": b"changed\n"})))
    return Send(ctx.wheel(mutate=add_members({"csv_dedupe/changed.py": b"x = 2\n"})))


def deleted_then(resend: Callable[[Ctx, Path], Send]) -> Callable[[Ctx], Send]:
    def send(ctx: Ctx) -> Send:
        first = ctx.wheel()
        ctx.publish(first)

        async def delete_file(hub: Hub) -> None:
            async with hub.sessions() as s:
                await s.execute(delete(File).where(File.filename == first.name))
                await s.commit()
                assert await s.scalar(select(File.id).where(File.filename == first.name)) is None

        ctx.live.run(delete_file)
        return resend(ctx, first)

    return send


DUPLICATES: list[Refusal] = [
    Refusal("wheel-filename-other-bytes", 409, "file.exists", published_then(other_bytes)),
    Refusal(
        "sdist-filename-other-bytes", 409, "file.exists", published_then(other_bytes, sdist=True)
    ),
    Refusal(
        "same-bytes-with-a-build-tag",
        409,
        "file.duplicate_content",
        published_then(lambda ctx, first: Send(first, filename=f"{ctx.stem()}-1-{TAGS}.whl")),
    ),
    Refusal(
        "same-bytes-as-another-component",
        409,
        "file.duplicate_content",
        published_then(
            lambda ctx, first: Send(
                first,
                filename=f"{ctx.stem_name}_twin-1.0.0-{TAGS}.whl",
                fields={"name": f"{ctx.name}-twin"},
            )
        ),
    ),
    Refusal(
        "deleted-filename-same-bytes",
        409,
        "file.deleted",
        deleted_then(lambda ctx, first: Send(first)),
    ),
    Refusal("deleted-filename-other-bytes", 409, "file.exists", deleted_then(other_bytes)),
]


# -- wheel tags, entry points and text: the rules that keep what is served honest ----------------


def wheel_file(old: bytes, new: bytes) -> Callable[[Ctx], Send]:
    return lambda ctx: Send(ctx.wheel(mutate=replace_in(member(".dist-info/WHEEL"), old, new)))


def entry_points(text: bytes) -> Callable[[Ctx], Send]:
    return lambda ctx: Send(ctx.wheel(mutate=edit_member(ENTRY_POINTS, lambda _: text)))


def in_metadata(old: bytes, new: bytes) -> Callable[[Ctx], Send]:
    return lambda ctx: Send(ctx.wheel(mutate=replace_in(METADATA, old, new)))


SUMMARY = b"Summary: A PySetl factory"
# Over 1 MiB of text that does not compress much, so the bomb rule is not what answers.
NOISE = base64.b64encode(random.Random(11).randbytes(800_000))
SOURCE = b"Project-URL: Source, https://example.org/pysetl/csv-dedupe"

TAG_RULES: list[Refusal] = [
    Refusal(
        "invented-platform",
        400,
        "wheel.tag_unknown",
        named(lambda c: f"{c.stem()}-py3-none-bogus_plat.whl"),
        says="platform tag 'bogus_plat'",
    ),
    Refusal(
        "invented-abi", 400, "wheel.tag_unknown", named(lambda c: f"{c.stem()}-py3-evil-any.whl")
    ),
    Refusal(
        "invented-interpreter",
        400,
        "wheel.tag_unknown",
        named(lambda c: f"{c.stem()}-zz3-none-any.whl"),
    ),
    Refusal(
        "markup-in-tag",
        400,
        "filename.characters",
        named(lambda c: f'{c.stem()}-py3-none-"><script>.whl'),
    ),
    Refusal(
        "rtl-override-in-filename",
        400,
        "filename.characters",
        named(lambda c: f"{c.stem()}-py3-none-any\u202elhw.whl"),
    ),
    Refusal(
        "renamed-to-manylinux",
        400,
        "wheel.tag_mismatch",
        named(lambda c: f"{c.stem()}-py3-none-manylinux_2_17_x86_64.whl"),
    ),
    Refusal(
        "build-tag-added-by-renaming",
        400,
        "wheel.tag_mismatch",
        named(lambda c: f"{c.stem()}-1-{TAGS}.whl"),
        says="build tag",
    ),
    Refusal(
        "wheel-file-claims-other-tags",
        400,
        "wheel.tag_mismatch",
        wheel_file(b"Tag: py3-none-any", b"Tag: cp311-cp311-manylinux_2_17_x86_64"),
    ),
    Refusal(
        "wheel-file-adds-a-tag",
        400,
        "wheel.tag_mismatch",
        wheel_file(b"Tag: py3-none-any", b"Tag: py3-none-any\nTag: py2-none-any"),
    ),
    Refusal(
        "wheel-version-2",
        400,
        "wheel.wheel_file",
        wheel_file(b"Wheel-Version: 1.0", b"Wheel-Version: 2.0"),
    ),
]

ENTRY_POINT_RULES: list[Refusal] = [
    Refusal(
        "name-escapes",
        400,
        "entry_point.invalid",
        entry_points(b"[pysetl.factories]\n../../evil = csv_dedupe:CsvDedupe\n"),
    ),
    Refusal(
        "value-not-a-reference",
        400,
        "entry_point.invalid",
        entry_points(b"[pysetl.factories]\nX = csv_dedupe:CsvDedupe; import os\n"),
    ),
    Refusal(
        "factory-names-a-module",
        400,
        "entry_point.invalid",
        entry_points(b"[pysetl.factories]\nX = csv_dedupe\n"),
    ),
    Refusal(
        "other-group-broken",
        400,
        "entry_point.invalid",
        entry_points(
            b"[pysetl.factories]\nX = csv_dedupe:CsvDedupe\n[console_scripts]\nt = a-b:c\n"
        ),
    ),
    Refusal(
        "control-character",
        400,
        "entry_point.invalid",
        entry_points(b"[pysetl.factories]\nX\x1b[2J = csv_dedupe:CsvDedupe\n"),
    ),
]

TEXT_RULES: list[Refusal] = [
    Refusal(
        "escape-in-summary",
        400,
        "metadata.control_character",
        in_metadata(SUMMARY, b"Summary: \x1b]0;pwned\x07A PySetl factory"),
    ),
    Refusal(
        "override-in-summary",
        400,
        "metadata.control_character",
        in_metadata(SUMMARY, b"Summary: \xe2\x80\xaeA PySetl factory"),
        says="U+202E",
    ),
    Refusal(
        "nul-in-description",
        400,
        "metadata.control_character",
        in_metadata(b"# csv-dedupe", b"# csv-dedupe \x00"),
    ),
    Refusal(
        "javascript-url",
        400,
        "metadata.url",
        in_metadata(SOURCE, b"Project-URL: Source, javascript:alert(document.cookie)"),
    ),
    Refusal(
        "data-url",
        400,
        "metadata.url",
        in_metadata(SOURCE, b"Project-URL: Source, data:text/html,<script>alert(1)</script>"),
    ),
    Refusal(
        "file-home-page",
        400,
        "metadata.url",
        in_metadata(SOURCE, b"Home-page: file:///etc/passwd"),
    ),
    Refusal(
        "description-over-the-form-cap",
        400,
        "metadata.description_too_large",
        in_metadata(b"# csv-dedupe", b"# csv-dedupe\n" + NOISE),
    ),
    Refusal(
        "pkg-info-description-over-the-cap",
        400,
        "metadata.description_too_large",
        lambda ctx: Send(ctx.sdist(mutate=edit_member(PKG_INFO, lambda b: b + b"\n" + NOISE))),
    ),
]

# -- the tests: one per family --------------------------------------------------------------------


@pytest.mark.parametrize("case", FRAMING, ids=str)
def test_framing(world: World, case: Refusal) -> None:
    check_refusal(world, "framing", case)


@pytest.mark.parametrize("case", SIZES, ids=str)
def test_bombs_and_size_caps(world: World, case: Refusal) -> None:
    check_refusal(world, "sizes", case)


@pytest.mark.parametrize("case", FILENAMES, ids=str)
def test_filenames_and_versions(world: World, case: Refusal) -> None:
    check_refusal(world, "filenames", case)


@pytest.mark.parametrize("case", DIGESTS, ids=str)
def test_digests(world: World, case: Refusal) -> None:
    check_refusal(world, "digests", case)


@pytest.mark.parametrize("case", FORM, ids=str)
def test_form(world: World, case: Refusal) -> None:
    check_refusal(world, "form", case)


@pytest.mark.parametrize("case", METADATA_RULES, ids=str)
def test_metadata(world: World, case: Refusal) -> None:
    check_refusal(world, "metadata", case)


@pytest.mark.parametrize("case", MEMBERS, ids=str)
def test_archive_members(world: World, case: Refusal) -> None:
    check_refusal(world, "members", case)


@pytest.mark.parametrize("case", NAMES, ids=str)
def test_names(db_world: World, case: Refusal) -> None:
    check_refusal(db_world, "names", case)


@pytest.mark.parametrize("case", PERMISSION, ids=str)
def test_permission(db_world: World, case: Refusal) -> None:
    check_refusal(db_world, "permission", case)


@pytest.mark.parametrize("case", DUPLICATES, ids=str)
def test_duplicates(db_world: World, case: Refusal) -> None:
    check_refusal(db_world, "duplicates", case)


@pytest.mark.parametrize("case", TAG_RULES, ids=str)
def test_wheel_tags(world: World, case: Refusal) -> None:
    check_refusal(world, "tags", case)


@pytest.mark.parametrize("case", ENTRY_POINT_RULES, ids=str)
def test_entry_points(world: World, case: Refusal) -> None:
    check_refusal(world, "entry-points", case)


@pytest.mark.parametrize("case", TEXT_RULES, ids=str)
def test_text_and_links(world: World, case: Refusal) -> None:
    check_refusal(world, "text", case)
