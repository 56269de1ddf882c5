"""Each publishing rule rejects with its own 4xx problem, and leaves nothing behind."""

from __future__ import annotations

import hashlib
import stat
import tarfile
import zipfile
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from pysetl_hub_server.db.models import AuditEvent, Component, File, FilenameRegistry
from pysetl_hub_server.hub import Hub
from tests.support.dists import Members, read_wheel, repack, write_tar, write_zip
from tests.support.live import LiveServer
from tests.support.upload import problem, upload

WHEEL = "csv-dedupe:wheel"


def assert_nothing_stored(live: LiveServer) -> None:
    async def counts(hub: Hub) -> tuple[int, int, int, int]:
        async with hub.sessions() as s:
            return (
                await s.scalar(select(func.count(Component.id))) or 0,
                await s.scalar(select(func.count(File.id))) or 0,
                await s.scalar(select(func.count(FilenameRegistry.filename))) or 0,
                await s.scalar(
                    select(func.count(AuditEvent.id)).where(AuditEvent.action == "file.upload")
                )
                or 0,
            )

    assert live.run(counts) == (0, 0, 0, 0)
    blobs = live.settings.data_dir / "blobs" / "sha256"
    assert not blobs.exists() or not any(p.is_file() for p in blobs.rglob("*"))
    spool = live.settings.data_dir / "spool"
    assert not any(spool.iterdir()), "the spooled upload was not removed"


def rejects(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    body = problem(response)
    assert body["code"] == code, body
    assert body["detail"]
    return body


@pytest.fixture
def token(live: LiveServer) -> str:
    return live.user_with_token("alice")


def test_filename_must_be_wheel_or_sdist(
    live: LiveServer, http: httpx.Client, token: str, example_dists: dict[str, Path]
) -> None:
    wheel = example_dists[WHEEL]
    r = upload(http, token, wheel, filename="csv_dedupe-1.0.0.zip")
    rejects(r, 400, "filename.extension")
    assert_nothing_stored(live)


def test_filename_must_parse(
    live: LiveServer, http: httpx.Client, token: str, example_dists: dict[str, Path]
) -> None:
    r = upload(http, token, example_dists[WHEEL], filename="csv_dedupe-1.0.0.whl")
    rejects(r, 400, "filename.invalid")
    assert_nothing_stored(live)


def test_a_legacy_spelling_is_stored_under_the_normalized_filename(
    live: LiveServer, http: httpx.Client, token: str, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    """setuptools before 75.8.1 keeps the project's case in wheel names; the hub accepts the
    file and serves it under the one normalized spelling, so the two cannot stand side by side."""
    wheel = repack(example_dists[WHEEL], tmp_path, filename="CSV_Dedupe-1.0.0-py3-none-any.whl")
    r = upload(http, token, wheel)
    assert r.status_code == 200, r.text
    assert r.json()["filename"] == "csv_dedupe-1.0.0-py3-none-any.whl"
    page = http.get(
        "/simple/csv-dedupe/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    assert [f["filename"] for f in page.json()["files"]] == ["csv_dedupe-1.0.0-py3-none-any.whl"]
    # The same bytes under either spelling are the same file; other bytes are a reuse.
    again = upload(http, token, wheel, filename="csv_dedupe-1.0.0-py3-none-any.whl")
    assert again.status_code == 200 and again.json()["created"] is False, again.text
    rejects(upload(http, token, example_dists[WHEEL]), 409, "file.exists")


def test_local_versions_are_refused(
    live: LiveServer, http: httpx.Client, token: str, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    wheel = repack(example_dists[WHEEL], tmp_path, version="1.0.0+local.1")
    body = rejects(upload(http, token, wheel), 400, "version.local")
    assert "local" in str(body["detail"])
    assert_nothing_stored(live)


def test_form_name_must_agree_with_filename(
    live: LiveServer, http: httpx.Client, token: str, example_dists: dict[str, Path]
) -> None:
    r = upload(http, token, example_dists[WHEEL], name="other-thing")
    rejects(r, 400, "form.name_mismatch")
    assert_nothing_stored(live)


def test_form_version_must_agree_with_filename(
    live: LiveServer, http: httpx.Client, token: str, example_dists: dict[str, Path]
) -> None:
    rejects(upload(http, token, example_dists[WHEEL], version="2.0"), 400, "form.version_mismatch")
    assert_nothing_stored(live)


def test_metadata_must_agree_with_filename(
    live: LiveServer, http: httpx.Client, token: str, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    def other_version(m: Members) -> None:
        key = next(k for k in m if k.endswith("METADATA"))
        m[key] = m[key].replace(b"Version: 1.0.0", b"Version: 9.9.9")

    wheel = repack(example_dists[WHEEL], tmp_path, mutate=other_version)
    rejects(upload(http, token, wheel), 400, "metadata.version_mismatch")

    def other_name(m: Members) -> None:
        key = next(k for k in m if k.endswith("METADATA"))
        m[key] = m[key].replace(b"Name: csv-dedupe", b"Name: csv-other")

    wheel = repack(example_dists[WHEEL], tmp_path / "b", mutate=other_name)
    rejects(upload(http, token, wheel), 400, "metadata.name_mismatch")
    assert_nothing_stored(live)


def test_metadata_must_parse(
    live: LiveServer, http: httpx.Client, token: str, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    def bad(m: Members) -> None:
        key = next(k for k in m if k.endswith("METADATA"))
        m[key] = m[key].replace(b"Requires-Python: >=3.9", b"Requires-Python: >=three")

    wheel = repack(example_dists[WHEEL], tmp_path, mutate=bad)
    rejects(upload(http, token, wheel), 400, "metadata.invalid")
    assert_nothing_stored(live)


@pytest.mark.parametrize("declared", [b"2.0", b"2.2"])
def test_a_field_newer_than_its_metadata_version_is_accepted(
    live: LiveServer,
    http: httpx.Client,
    token: str,
    example_dists: dict[str, Path],
    tmp_path: Path,
    declared: bytes,
) -> None:
    """setuptools 61-75 writes License-File under Metadata-Version 2.1/2.2; pip installs it."""

    def older(m: Members) -> None:
        key = next(k for k in m if k.endswith("METADATA"))
        head, _, rest = m[key].partition(b"\n")
        assert head.startswith(b"Metadata-Version:")
        m[key] = b"Metadata-Version: " + declared + b"\nLicense-File: LICENSE\n" + rest

    wheel = repack(example_dists[WHEEL], tmp_path, mutate=older)
    r = upload(http, token, wheel, metadata_version=declared.decode())
    assert r.status_code == 200, r.text


def test_an_invalid_value_is_refused_naming_its_field(
    live: LiveServer, http: httpx.Client, token: str, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    def bad(m: Members) -> None:
        key = next(k for k in m if k.endswith("METADATA"))
        _, _, rest = m[key].partition(b"\n")
        m[key] = b"Metadata-Version: 2.1\nLicense-File: LICENSE\n" + rest.replace(
            b"Requires-Python: >=3.9", b"Requires-Python: >=three"
        )

    wheel = repack(example_dists[WHEEL], tmp_path, mutate=bad)
    body = rejects(upload(http, token, wheel), 400, "metadata.invalid")
    detail = str(body["detail"])
    assert "requires-python" in detail.lower() and "introduced in" not in detail
    assert_nothing_stored(live)


def test_direct_url_dependencies_are_refused(
    live: LiveServer, http: httpx.Client, token: str, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    def direct(m: Members) -> None:
        key = next(k for k in m if k.endswith("METADATA"))
        m[key] = m[key].replace(
            b"Requires-Dist: pyspark",
            b"Requires-Dist: evil @ https://example.org/e.whl\nRequires-Dist: pyspark",
        )

    wheel = repack(example_dists[WHEEL], tmp_path, mutate=direct)
    rejects(upload(http, token, wheel), 400, "metadata.direct_url")
    assert_nothing_stored(live)


def test_sha256_digest_must_match(
    live: LiveServer, http: httpx.Client, token: str, example_dists: dict[str, Path]
) -> None:
    r = upload(http, token, example_dists[WHEEL], sha256_digest="0" * 64)
    rejects(r, 400, "digest.mismatch")
    r = upload(http, token, example_dists[WHEEL], blake2_256_digest="1" * 64)
    rejects(r, 400, "digest.mismatch")
    r = upload(http, token, example_dists[WHEEL], md5_digest="2" * 32)
    rejects(r, 400, "digest.mismatch")
    assert_nothing_stored(live)


@pytest.mark.parametrize("sent", ["sha256_digest", "blake2_256_digest", "md5_digest"])
def test_a_digest_is_required_and_any_one_suffices(
    live: LiveServer,
    http: httpx.Client,
    token: str,
    example_dists: dict[str, Path],
    sent: str,
) -> None:
    none = {"sha256_digest": None, "blake2_256_digest": None}
    r = upload(http, token, example_dists[WHEEL], **none)
    body = rejects(r, 400, "digest.missing")
    assert "sha256_digest" in str(body["detail"])
    r = upload(http, token, example_dists[WHEEL], **none, md5_digest="  ")
    rejects(r, 400, "digest.missing")
    assert_nothing_stored(live)
    data = example_dists[WHEEL].read_bytes()
    right = {
        "sha256_digest": hashlib.sha256(data).hexdigest(),
        "blake2_256_digest": hashlib.blake2b(data, digest_size=32).hexdigest(),
        "md5_digest": hashlib.md5(data, usedforsecurity=False).hexdigest(),
    }
    assert (
        upload(http, token, example_dists[WHEEL], **{**none, sent: right[sent]}).status_code == 200
    )


def test_size_cap_is_enforced_while_streaming(
    tmp_path: Path, database_url: str, example_dists: dict[str, Path]
) -> None:
    from pysetl_hub_server.settings import UploadLimits
    from tests.conftest import start_hub

    server = start_hub(tmp_path, database_url, uploads=UploadLimits(max_file_size=1000))
    try:
        token = server.user_with_token("alice")
        with httpx.Client(base_url=server.url) as client:
            body = rejects(upload(client, token, example_dists[WHEEL]), 413, "upload.too_large")
            assert "cap of 1000 bytes" in str(body["detail"])

            # Chunked (no Content-Length): the cap still holds, counted as the body streams.
            big = b"x" * 5_000_000

            def body():  # type: ignore[no-untyped-def]
                boundary = b"b0undary"
                yield (
                    b"--"
                    + boundary
                    + b'\r\nContent-Disposition: form-data; name=":action"\r\n\r\nfile_upload\r\n'
                )
                yield (
                    b"--"
                    + boundary
                    + b'\r\nContent-Disposition: form-data; name="content"; '
                    + b'filename="csv_dedupe-1.0.0-py3-none-any.whl"\r\n\r\n'
                )
                for i in range(0, len(big), 65536):
                    yield big[i : i + 65536]
                yield b"\r\n--" + boundary + b"--\r\n"

            r = client.post(
                "/legacy/",
                content=body(),
                headers={"Content-Type": "multipart/form-data; boundary=b0undary"},
                auth=("__token__", token),
            )
            rejects(r, 413, "upload.too_large")
        assert_nothing_stored(server)
    finally:
        server.stop()


def test_non_file_fields_are_capped(
    live: LiveServer, http: httpx.Client, token: str, example_dists: dict[str, Path]
) -> None:
    r = upload(http, token, example_dists[WHEEL], summary="s" * 70_000)
    body = rejects(r, 413, "form.field_too_large")
    assert "its cap of 64 KiB" in str(body["detail"])  # sizes in units, not 65536 bytes
    assert_nothing_stored(live)


def _entries_with(
    wheel: Path, extra: list[tuple[zipfile.ZipInfo | str, bytes]]
) -> list[tuple[zipfile.ZipInfo | str, bytes]]:
    return [(name, data) for name, data in read_wheel(wheel).items()] + extra


@pytest.mark.parametrize(
    ("member", "code"),
    [
        ("/etc/passwd", "archive.path"),
        ("csv_dedupe/../../evil.py", "archive.path"),
        ("csv_dedupe\\win.py", "archive.path"),
    ],
)
def test_archive_member_paths(
    live: LiveServer,
    http: httpx.Client,
    token: str,
    example_dists: dict[str, Path],
    tmp_path: Path,
    member: str,
    code: str,
) -> None:
    path = write_zip(
        tmp_path / example_dists[WHEEL].name, _entries_with(example_dists[WHEEL], [(member, b"x")])
    )
    rejects(upload(http, token, path), 400, code)
    assert_nothing_stored(live)


def test_archive_symlinks_are_refused(
    live: LiveServer, http: httpx.Client, token: str, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    info = zipfile.ZipInfo("csv_dedupe/link.py")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    path = write_zip(
        tmp_path / example_dists[WHEEL].name,
        _entries_with(example_dists[WHEEL], [(info, b"/etc/passwd")]),
    )
    rejects(upload(http, token, path), 400, "archive.link")
    assert_nothing_stored(live)


def test_archive_duplicate_members_are_refused(
    live: LiveServer, http: httpx.Client, token: str, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate we write on purpose
        path = write_zip(
            tmp_path / example_dists[WHEEL].name,
            _entries_with(example_dists[WHEEL], [("csv_dedupe/__init__.py", b"print('evil')")]),
        )
    rejects(upload(http, token, path), 400, "archive.duplicate")
    assert_nothing_stored(live)


def test_archive_compression_method_must_be_stored_or_deflated(
    live: LiveServer, http: httpx.Client, token: str, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    info = zipfile.ZipInfo("csv_dedupe/extra.py")
    info.compress_type = zipfile.ZIP_BZIP2
    path = write_zip(
        tmp_path / example_dists[WHEEL].name, _entries_with(example_dists[WHEEL], [(info, b"x=1")])
    )
    rejects(upload(http, token, path), 400, "archive.compression")
    assert_nothing_stored(live)


def test_zip_bomb_is_refused(
    tmp_path: Path, database_url: str, example_dists: dict[str, Path]
) -> None:
    from pysetl_hub_server.settings import UploadLimits
    from tests.conftest import start_hub

    limits = UploadLimits(max_uncompressed_size=2_000_000, max_archive_members=50)
    server = start_hub(tmp_path, database_url, uploads=limits)
    try:
        token = server.user_with_token("alice")

        def bomb(m: Members) -> None:
            m["csv_dedupe/zeros.bin"] = b"\0" * 5_000_000  # compresses to ~5 KB

        wheel = repack(example_dists[WHEEL], tmp_path / "bomb", mutate=bomb)
        assert wheel.stat().st_size < 100_000

        def many(m: Members) -> None:
            for i in range(60):
                m[f"csv_dedupe/m{i}.py"] = b""

        crowded = repack(example_dists[WHEEL], tmp_path / "many", mutate=many)
        with httpx.Client(base_url=server.url) as client:
            rejects(upload(client, token, wheel), 400, "archive.too_large_uncompressed")
            rejects(upload(client, token, crowded), 400, "archive.too_many_members")
        assert_nothing_stored(server)
    finally:
        server.stop()


def test_wheel_needs_one_dist_info_with_metadata_wheel_record(
    live: LiveServer, http: httpx.Client, token: str, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    def no_wheel_file(m: Members) -> None:
        del m[next(k for k in m if k.endswith(".dist-info/WHEEL"))]

    rejects(
        upload(http, token, repack(example_dists[WHEEL], tmp_path / "a", mutate=no_wheel_file)),
        400,
        "archive.dist_info",
    )

    def two_dist_infos(m: Members) -> None:
        m["other-1.0.dist-info/METADATA"] = b"Metadata-Version: 2.1\nName: other\nVersion: 1.0\n"

    rejects(
        upload(http, token, repack(example_dists[WHEEL], tmp_path / "b", mutate=two_dist_infos)),
        400,
        "archive.dist_info",
    )
    assert_nothing_stored(live)


def test_wheel_record_must_match_contents(
    live: LiveServer, http: httpx.Client, token: str, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    def tamper(m: Members) -> None:
        m["csv_dedupe/__init__.py"] += b"\nimport os  # added after RECORD was written\n"

    tampered = repack(example_dists[WHEEL], tmp_path / "a", mutate=tamper, rewrite_record=False)
    rejects(upload(http, token, tampered), 400, "archive.record")

    def unlisted(m: Members) -> None:
        m["csv_dedupe/sneaky.py"] = b"x = 1\n"

    sneaky = repack(example_dists[WHEEL], tmp_path / "b", mutate=unlisted, rewrite_record=False)
    rejects(upload(http, token, sneaky), 400, "archive.record")
    assert_nothing_stored(live)


def test_record_listing_a_missing_file_is_refused(
    live: LiveServer, http: httpx.Client, token: str, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    def ghost(m: Members) -> None:
        record = next(k for k in m if k.endswith(".dist-info/RECORD"))
        m[record] += b"csv_dedupe/ghost.py,sha256=AAAA,4\n"

    wheel = repack(example_dists[WHEEL], tmp_path, mutate=ghost, rewrite_record=False)
    rejects(upload(http, token, wheel), 400, "archive.record")
    assert_nothing_stored(live)


def test_dist_info_named_for_another_project_is_refused(
    live: LiveServer, http: httpx.Client, token: str, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    def rename(m: Members) -> None:
        for key in [k for k in m if ".dist-info/" in k]:
            m["other_project-1.0.0.dist-info/" + key.split(".dist-info/", 1)[1]] = m.pop(key)

    wheel = repack(example_dists[WHEEL], tmp_path, mutate=rename)
    rejects(upload(http, token, wheel), 400, "archive.dist_info")
    assert_nothing_stored(live)


def test_form_filetype_must_agree_with_the_file(
    live: LiveServer, http: httpx.Client, token: str, example_dists: dict[str, Path]
) -> None:
    r = upload(http, token, example_dists[WHEEL], filetype="sdist")
    rejects(r, 400, "form.filetype_mismatch")
    r = upload(http, token, example_dists["csv-dedupe:sdist"], filetype="bdist_wheel")
    rejects(r, 400, "form.filetype_mismatch")
    assert_nothing_stored(live)


def test_the_uncompressed_budget_is_the_total_not_per_member(
    tmp_path: Path, database_url: str, example_dists: dict[str, Path]
) -> None:
    """Many members, each well under the cap, that add up past it."""
    from pysetl_hub_server.settings import UploadLimits
    from tests.conftest import start_hub

    server = start_hub(tmp_path, database_url, uploads=UploadLimits(max_uncompressed_size=500_000))
    try:

        def spread(m: Members) -> None:
            for i in range(10):
                m[f"csv_dedupe/part{i}.bin"] = bytes([i]) * 60_000  # 10 x 60 KB = 600 KB

        wheel = repack(example_dists[WHEEL], tmp_path / "w", mutate=spread)
        stem = "csv_dedupe-1.0.0"
        parts = [(tarfile.TarInfo(f"{stem}/part{i}.bin"), bytes([i]) * 60_000) for i in range(10)]
        (tmp_path / "s").mkdir()
        sdist = write_tar(tmp_path / "s" / f"{stem}.tar.gz", _sdist_entries(stem, parts))
        with httpx.Client(base_url=server.url) as client:
            token = server.user_with_token("alice")
            rejects(upload(client, token, wheel), 400, "archive.too_large_uncompressed")
            rejects(upload(client, token, sdist), 400, "archive.too_large_uncompressed")
        assert_nothing_stored(server)
    finally:
        server.stop()


def test_sdist_duplicate_members_and_member_count(tmp_path: Path, database_url: str) -> None:
    from pysetl_hub_server.settings import UploadLimits
    from tests.conftest import start_hub

    server = start_hub(tmp_path, database_url, uploads=UploadLimits(max_archive_members=20))
    try:
        stem = "csv_dedupe-1.0.0"
        twice = tarfile.TarInfo(f"{stem}/dup.py")
        (tmp_path / "d").mkdir()
        (tmp_path / "m").mkdir()
        dup = write_tar(
            tmp_path / "d" / f"{stem}.tar.gz",
            _sdist_entries(stem, [(twice, b"a = 1\n"), (tarfile.TarInfo(twice.name), b"b\n")]),
        )
        crowd = [(tarfile.TarInfo(f"{stem}/m{i}.py"), b"") for i in range(30)]
        many = write_tar(tmp_path / "m" / f"{stem}.tar.gz", _sdist_entries(stem, crowd))
        with httpx.Client(base_url=server.url) as client:
            token = server.user_with_token("alice")
            rejects(upload(client, token, dup), 400, "archive.duplicate")
            rejects(upload(client, token, many), 400, "archive.too_many_members")
        assert_nothing_stored(server)
    finally:
        server.stop()


def test_not_a_pysetl_component(
    live: LiveServer, http: httpx.Client, token: str, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    def no_entry_points(m: Members) -> None:
        del m[next(k for k in m if k.endswith("entry_points.txt"))]

    wheel = repack(example_dists[WHEEL], tmp_path, mutate=no_entry_points)
    body = rejects(upload(http, token, wheel), 400, "component.not_pysetl")
    assert "not a PySetl component" in str(body["detail"])
    assert "pysetl.factories" in str(body["detail"]) and "pysetl.pipelines" in str(body["detail"])
    assert_nothing_stored(live)


def _sdist_entries(
    stem: str, extra: list[tuple[tarfile.TarInfo, bytes]]
) -> list[tuple[tarfile.TarInfo, bytes]]:
    pkg_info = b"Metadata-Version: 2.1\nName: csv-dedupe\nVersion: 1.0.0\n"
    pyproject = (
        b'[project]\nname = "csv-dedupe"\n'
        b'[project.entry-points."pysetl.factories"]\nX = "csv_dedupe:X"\n'
    )
    return [
        (tarfile.TarInfo(f"{stem}/PKG-INFO"), pkg_info),
        (tarfile.TarInfo(f"{stem}/pyproject.toml"), pyproject),
        *extra,
    ]


@pytest.mark.parametrize("kind", ["symlink", "hardlink", "device", "dotdot"])
def test_sdist_archive_safety(
    live: LiveServer, http: httpx.Client, token: str, tmp_path: Path, kind: str
) -> None:
    stem = "csv_dedupe-1.0.0"
    bad = tarfile.TarInfo(f"{stem}/bad")
    code = "archive.link"
    if kind == "symlink":
        bad.type, bad.linkname = tarfile.SYMTYPE, "/etc/passwd"
    elif kind == "hardlink":
        bad.type, bad.linkname = tarfile.LNKTYPE, f"{stem}/PKG-INFO"
    elif kind == "device":
        bad.type = tarfile.CHRTYPE
    else:
        bad = tarfile.TarInfo(f"{stem}/../../escape.txt")
        code = "archive.path"
    path = write_tar(tmp_path / f"{stem}.tar.gz", _sdist_entries(stem, [(bad, b"")]))
    rejects(upload(http, token, path), 400, code)
    assert_nothing_stored(live)


def test_good_handmade_sdist_is_accepted(
    live: LiveServer, http: httpx.Client, token: str, tmp_path: Path
) -> None:
    """Control for the sdist safety tests: the same archive without the bad member passes."""
    stem = "csv_dedupe-1.0.0"
    path = write_tar(tmp_path / f"{stem}.tar.gz", _sdist_entries(stem, []))
    r = upload(http, token, path)
    assert r.status_code == 200, r.text
    assert hashlib.sha256(path.read_bytes()).hexdigest() == r.json()["sha256"]


@pytest.mark.parametrize(
    "pyproject",
    [
        # Poetry's own table (poetry-core writes no entry_points.txt into an sdist)
        b'[tool.poetry]\nname = "csv-dedupe"\n'
        b'[tool.poetry.plugins."pysetl.factories"]\nX = "csv_dedupe:X"\n',
        # flit-core's table from before PEP 621
        b'[tool.flit.metadata]\nmodule = "csv_dedupe"\n'
        b'[tool.flit.entrypoints."pysetl.factories"]\nX = "csv_dedupe:X"\n',
        # PEP 621 wins over them when both are there
        b'[project]\nname = "csv-dedupe"\n'
        b'[project.entry-points."pysetl.factories"]\nX = "csv_dedupe:X"\n'
        b'[tool.poetry.plugins."pysetl.factories"]\nIgnored = "csv_dedupe:Other"\n',
    ],
    ids=["tool.poetry.plugins", "tool.flit.entrypoints", "project.entry-points-first"],
)
def test_sdist_entry_points_from_pyproject(
    live: LiveServer, http: httpx.Client, token: str, tmp_path: Path, pyproject: bytes
) -> None:
    stem = "csv_dedupe-1.0.0"
    pkg_info = b"Metadata-Version: 2.1\nName: csv-dedupe\nVersion: 1.0.0\n"
    path = write_tar(
        tmp_path / f"{stem}.tar.gz",
        [
            (tarfile.TarInfo(f"{stem}/PKG-INFO"), pkg_info),
            (tarfile.TarInfo(f"{stem}/pyproject.toml"), pyproject),
        ],
    )
    r = upload(http, token, path)
    assert r.status_code == 200, r.text
    latest = http.get("/api/v1/components/csv-dedupe").json()["latest"]
    assert latest["kinds"] == ["factory"]
    assert [(e["group"], e["name"], e["value"]) for e in latest["entry_points"]] == [
        ("pysetl.factories", "X", "csv_dedupe:X")
    ]


def test_sdist_without_a_pysetl_entry_point_is_refused(
    live: LiveServer, http: httpx.Client, token: str, tmp_path: Path
) -> None:
    stem = "csv_dedupe-1.0.0"
    pyproject = (
        b'[tool.poetry]\nname = "csv-dedupe"\n[tool.poetry.plugins."other.group"]\nX = "m:X"\n'
    )
    path = write_tar(
        tmp_path / f"{stem}.tar.gz",
        [
            (
                tarfile.TarInfo(f"{stem}/PKG-INFO"),
                b"Metadata-Version: 2.1\nName: csv-dedupe\nVersion: 1.0.0\n",
            ),
            (tarfile.TarInfo(f"{stem}/pyproject.toml"), pyproject),
        ],
    )
    rejects(upload(http, token, path), 400, "component.not_pysetl")
    assert_nothing_stored(live)


def test_bombs_by_ratio_wheel_and_sdist(
    tmp_path: Path, database_url: str, example_dists: dict[str, Path]
) -> None:
    """Over the floor and over the ratio, counted on the bytes really inflated; a file that is
    big but compresses like real content (under the ratio) is not a bomb."""
    import os

    from pysetl_hub_server.settings import UploadLimits
    from tests.conftest import start_hub

    limits = UploadLimits(bomb_floor=1_000_000, bomb_ratio=50)
    server = start_hub(tmp_path, database_url, uploads=limits)
    try:
        token = server.user_with_token("alice")
        zeros = b"\0" * 3_000_000  # ~3 KB compressed: 1000x

        def bomb(m: Members) -> None:
            m["csv_dedupe/zeros.bin"] = zeros

        wheel = repack(example_dists[WHEEL], tmp_path / "bomb", mutate=bomb)
        stem = "csv_dedupe-1.0.0"
        zeros_member = tarfile.TarInfo(f"{stem}/zeros.bin")
        (tmp_path / "sdist").mkdir()
        sdist = write_tar(
            tmp_path / "sdist" / f"{stem}.tar.gz", _sdist_entries(stem, [(zeros_member, zeros)])
        )

        def noise(m: Members) -> None:
            m["csv_dedupe/noise.bin"] = os.urandom(1_500_000)  # over the floor, ratio ~1

        honest = repack(example_dists[WHEEL], tmp_path / "noise", mutate=noise)
        with httpx.Client(base_url=server.url) as client:
            body = rejects(upload(client, token, wheel), 400, "archive.bomb")
            assert "50 times" in str(body["detail"])
            rejects(upload(client, token, sdist), 400, "archive.bomb")
            assert_nothing_stored(server)
            assert upload(client, token, honest).status_code == 200
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("filename", "code"),
    [
        ("csv_dedupe-01.0.0.tar.gz", "filename.version_not_normalized"),
        ("csv_dedupe-1.0.0.zip", "filename.extension"),
        ("csv_dedupe-1.0.0.tar.bz2", "filename.extension"),
        ("csv_dedupe-1.0.0.tgz", "filename.extension"),
        ("csv_dedupe.tar.gz", "filename.invalid"),
    ],
)
def test_an_sdist_is_a_pep_625_tar_gz(filename: str, code: str) -> None:
    from pysetl_hub_server.errors import InvalidUpload
    from pysetl_hub_server.publishing.validate import parse_filename

    with pytest.raises(InvalidUpload) as caught:
        parse_filename(filename)
    assert caught.value.code == code, caught.value.detail


@pytest.mark.parametrize(
    ("uploaded", "stored"),
    [
        ("csv_dedupe-1.0.0.tar.gz", "csv_dedupe-1.0.0.tar.gz"),
        ("csv-dedupe-1.0.0.tar.gz", "csv_dedupe-1.0.0.tar.gz"),  # setuptools < 69.3
        ("CSV_Dedupe-1.0.0.tar.gz", "csv_dedupe-1.0.0.tar.gz"),
        ("csv.dedupe-1.0.0.tar.gz", "csv_dedupe-1.0.0.tar.gz"),
        ("Csv.Dedupe-1.0.0-2-py3-none-any.whl", "csv_dedupe-1.0.0-2-py3-none-any.whl"),
        ("csv_dedupe-1.0.0-py3-none-any.whl", "csv_dedupe-1.0.0-py3-none-any.whl"),
    ],
)
def test_an_sdist_or_wheel_is_stored_as_normalized_name_dash_version(
    uploaded: str, stored: str
) -> None:
    from pysetl_hub_server.publishing.validate import parse_filename

    parsed = parse_filename(uploaded)
    assert parsed.filename == stored
    assert parsed.uploaded == ("" if uploaded == stored else uploaded)
    assert parsed.stem.lower().startswith(uploaded[:10].lower())  # as written, for the archive


@pytest.mark.parametrize("top", ["csv-dedupe-1.0.0", "csv_dedupe-1.0.0", "CSV.Dedupe-1.0.0"])
def test_a_legacy_sdist_is_accepted_and_served_normalized(
    live: LiveServer, http: httpx.Client, token: str, tmp_path: Path, top: str
) -> None:
    """What setuptools 61-69.2 writes for csv-dedupe: `csv-dedupe-1.0.0.tar.gz` holding
    `csv-dedupe-1.0.0/`. Any equivalent spelling of the directory is the same project."""
    path = write_tar(tmp_path / "csv-dedupe-1.0.0.tar.gz", _sdist_entries(top, []))
    r = upload(http, token, path)
    assert r.status_code == 200, r.text
    assert r.json()["filename"] == "csv_dedupe-1.0.0.tar.gz"
    assert r.json()["url"].endswith("/csv_dedupe-1.0.0.tar.gz")


def test_an_sdist_holds_one_directory_for_its_project(
    live: LiveServer, http: httpx.Client, token: str, tmp_path: Path
) -> None:
    for top in ("other-1.0.0", "csv_dedupe-2.0", "PKG-INFO"):
        entries = _sdist_entries(top, []) if top != "PKG-INFO" else []
        if top == "PKG-INFO":
            entries = [(tarfile.TarInfo("PKG-INFO"), b"Metadata-Version: 2.1\n")]
        path = write_tar(tmp_path / "csv_dedupe-1.0.0.tar.gz", entries)
        rejects(upload(http, token, path), 400, "archive.sdist_layout")
    second = _sdist_entries("csv_dedupe-1.0.0", [(tarfile.TarInfo("csv-dedupe-1.0.0/x"), b"")])
    path = write_tar(tmp_path / "csv_dedupe-1.0.0.tar.gz", second)
    rejects(upload(http, token, path), 400, "archive.sdist_layout")
    assert_nothing_stored(live)
