"""validate.py's rules called directly: every refusal's code and wording, every acceptance.

The HTTP tests (test_validate.py, test_refusals.py) prove the rules are wired into uploads and
leave nothing behind; these pin each rule's edges quickly enough for mutation testing.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from pysetl_hub_server.bounds import MAX_FILENAME, MAX_VERSION
from pysetl_hub_server.errors import HubError
from pysetl_hub_server.publishing.form import UploadedFile, UploadForm
from pysetl_hub_server.publishing.validate import (
    check_digests,
    check_form,
    check_form_agrees,
    parse_filename,
)

DATA = b"wheel bytes"
SHA256 = hashlib.sha256(DATA).hexdigest()
BLAKE2 = hashlib.blake2b(DATA, digest_size=32).hexdigest()
MD5 = hashlib.md5(DATA).hexdigest()


def _file(name: str = "csv_dedupe-1.0.0-py3-none-any.whl", size: int = len(DATA)) -> UploadedFile:
    return UploadedFile(name, Path("/nonexistent"), size, SHA256, BLAKE2, MD5)


def _form(file: UploadedFile | None = None, **fields: str) -> UploadForm:
    base = {":action": "file_upload", "protocol_version": "1", "name": "csv-dedupe"}
    base["version"] = "1.0.0"
    base.update(fields)
    return UploadForm({k: [v] for k, v in base.items() if v != "<absent>"}, file or _file())


def _refused(call: object, *args: object) -> HubError:
    with pytest.raises(HubError) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value


# -- the envelope ----------------------------------------------------------------------------


def test_a_complete_envelope_gives_its_file() -> None:
    file = _file()
    assert check_form(_form(file)) is file
    assert check_form(_form(file, protocol_version="<absent>")) is file


@pytest.mark.parametrize(
    ("fields", "code", "detail"),
    [
        (
            {":action": "submit"},
            "form.action",
            "unsupported :action 'submit': this endpoint accepts only file_upload",
        ),
        (
            {":action": "<absent>"},
            "form.action",
            "unsupported :action None: this endpoint accepts only file_upload",
        ),
        ({"protocol_version": "2"}, "form.protocol_version", "unsupported protocol_version '2'"),
        ({"name": ""}, "form.name", "the form field 'name' is required"),
        ({"version": "<absent>"}, "form.version", "the form field 'version' is required"),
    ],
)
def test_envelope_refusals(fields: dict[str, str], code: str, detail: str) -> None:
    error = _refused(check_form, _form(**fields))
    assert (error.status, error.code, error.detail) == (400, code, detail)


def test_a_form_without_a_file_is_refused() -> None:
    form = _form()
    form.file = None
    error = _refused(check_form, form)
    assert (error.code, error.detail) == ("form.content", "the form has no `content` file part")


# -- the form agrees with the file -----------------------------------------------------------

WHEEL = parse_filename("csv_dedupe-1.0.0-py3-none-any.whl")


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"name": "CSV.Dedupe", "version": "1.0"},  # equivalent spellings
        {"filetype": "bdist_wheel"},
    ],
)
def test_a_form_that_agrees_is_accepted(fields: dict[str, str]) -> None:
    check_form_agrees(_form(**fields), WHEEL)


@pytest.mark.parametrize(
    ("fields", "code", "detail"),
    [
        (
            {"name": "other"},
            "form.name_mismatch",
            "the form says name 'other' but the file 'csv_dedupe-1.0.0-py3-none-any.whl' is for "
            "'csv-dedupe': upload the file with its own metadata",
        ),
        (
            {"version": "1.0.1"},
            "form.version_mismatch",
            "the form says version '1.0.1' but the file is version 1.0.0",
        ),
        (
            {"version": "one"},
            "version.invalid",
            "version 'one' is not a PEP 440 version",
        ),
        (
            {"version": "1" * (MAX_VERSION + 1)},
            "version.invalid",
            f"the form's version is longer than {MAX_VERSION} characters",
        ),
        (
            {"filetype": "sdist"},
            "form.filetype_mismatch",
            "the form says filetype 'sdist' but 'csv_dedupe-1.0.0-py3-none-any.whl' is a "
            "bdist_wheel",
        ),
    ],
)
def test_form_disagreements(fields: dict[str, str], code: str, detail: str) -> None:
    error = _refused(check_form_agrees, _form(**fields), WHEEL)
    assert (error.code, error.detail) == (code, detail)


def test_a_version_of_exactly_the_bound_is_compared() -> None:
    error = _refused(check_form_agrees, _form(version="1" * MAX_VERSION), WHEEL)
    assert error.code == "form.version_mismatch"


# -- digests ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"sha256_digest": SHA256},
        {"blake2_256_digest": BLAKE2},
        {"md5_digest": MD5},
        {"sha256_digest": f" {SHA256.upper()} ", "md5_digest": MD5},
    ],
)
def test_any_one_matching_digest_suffices(fields: dict[str, str]) -> None:
    check_digests(_form(**fields), _file())


@pytest.mark.parametrize(
    ("field", "actual"),
    [("sha256_digest", SHA256), ("blake2_256_digest", BLAKE2), ("md5_digest", MD5)],
)
def test_every_digest_sent_must_match(field: str, actual: str) -> None:
    fields = {"sha256_digest": SHA256, field: "0" * len(actual)}
    error = _refused(check_digests, _form(**fields), _file())
    assert error.code == "digest.mismatch"
    assert error.detail == (
        f"{field} {'0' * len(actual)!r} does not match the uploaded bytes ({actual}): the file "
        "was corrupted in transit or changed after hashing; upload it again"
    )


@pytest.mark.parametrize("fields", [{}, {"sha256_digest": "  "}, {"md5_digest": ""}])
def test_no_digest_is_refused(fields: dict[str, str]) -> None:
    error = _refused(check_digests, _form(**fields), _file())
    assert error.code == "digest.missing"
    assert error.detail.startswith("the upload carries no digest: send sha256_digest")


def test_an_empty_file_is_refused() -> None:
    empty = _file(size=0)
    error = _refused(check_digests, _form(sha256_digest=SHA256), empty)
    assert (error.code, error.detail) == ("upload.empty", "the uploaded file is empty")


# -- filenames -------------------------------------------------------------------------------


def test_a_filename_at_the_length_bound_is_read_and_one_past_it_is_not() -> None:
    tail = "-1.0.0-py3-none-any.whl"
    at_bound = "a" * (MAX_FILENAME - len(tail)) + tail
    assert parse_filename(at_bound).filename == at_bound
    error = _refused(parse_filename, "a" + at_bound)
    assert error.code == "filename.too_long"
    assert error.detail == (
        f"the filename is {MAX_FILENAME + 1} characters long; at most {MAX_FILENAME} are "
        f"accepted, with a version of at most {MAX_VERSION}"
    )


def test_a_version_at_the_bound_is_read_and_one_past_it_is_not() -> None:
    version = "1." + "1" * (MAX_VERSION - 2)
    assert str(parse_filename(f"x-{version}.tar.gz").version) == version
    error = _refused(parse_filename, f"x-{version}1.tar.gz")
    assert error.code == "version.too_long"
    assert error.detail == (
        f"version {(version + '1')[:20]}... is longer than {MAX_VERSION} characters"
    )


@pytest.mark.parametrize(
    ("filename", "code", "detail"),
    [
        (
            "x-1.0.0.zip",
            "filename.extension",
            "'x-1.0.0.zip' is neither a wheel (.whl) nor an sdist (.tar.gz, PEP 625): upload "
            "what `python -m build` produces",
        ),
        (
            "x-01.0.tar.gz",
            "filename.version_not_normalized",
            "'x-01.0.tar.gz' spells version 1.0 as '01.0': rebuild with a current build "
            "backend, which writes the normalized PEP 440 form",
        ),
        (
            "x-1.0+local.tar.gz",
            "version.local",
            "version 1.0+local has a local part (+local): local versions are for private "
            "builds and cannot be published; drop the '+...' suffix",
        ),
    ],
)
def test_filename_refusals(filename: str, code: str, detail: str) -> None:
    error = _refused(parse_filename, filename)
    assert (error.code, error.detail) == (code, detail)


def test_what_a_wheel_filename_gives() -> None:
    parsed = parse_filename("Csv.Dedupe-1.0.0-7-py2.py3-none-any.whl")
    assert parsed.filename == "csv_dedupe-1.0.0-7-py2.py3-none-any.whl"
    assert (parsed.name, str(parsed.version), parsed.packagetype) == (
        "csv-dedupe",
        "1.0.0",
        "bdist_wheel",
    )
    assert (parsed.stem, parsed.build, parsed.uploaded) == (
        "Csv.Dedupe-1.0.0",
        "7",
        "Csv.Dedupe-1.0.0-7-py2.py3-none-any.whl",
    )
    assert sorted(map(str, parsed.tags)) == ["py2-none-any", "py3-none-any"]
    plain = parse_filename("csv_dedupe-1.0.0-py3-none-any.whl")
    assert (plain.build, plain.uploaded) == ("", "")


def test_what_an_sdist_filename_gives() -> None:
    parsed = parse_filename("csv-dedupe-1.0.0.tar.gz")
    assert (parsed.filename, parsed.stem, parsed.packagetype, parsed.tags) == (
        "csv_dedupe-1.0.0.tar.gz",
        "csv-dedupe-1.0.0",
        "sdist",
        frozenset(),
    )


def test_filename_character_and_parse_refusals_in_full() -> None:
    error = _refused(parse_filename, "a b-1.0.tar.gz")
    assert (error.code, error.detail) == (
        "filename.characters",
        "filename 'a b-1.0.tar.gz' may hold only ASCII letters, digits and the characters "
        ". _ - ! +: upload the file your build backend wrote, under the name it wrote",
    )
    error = _refused(parse_filename, "csv_dedupe-1.0.0.whl")
    assert (error.code, error.detail) == (
        "filename.invalid",
        "'csv_dedupe-1.0.0.whl' is not a valid distribution filename: Invalid wheel filename "
        "(wrong number of parts): 'csv_dedupe-1.0.0'",
    )


def test_the_missing_digest_detail_in_full() -> None:
    error = _refused(check_digests, _form(), _file())
    assert error.detail == (
        "the upload carries no digest: send sha256_digest (or blake2_256_digest or "
        "md5_digest) computed over the file, as twine and pysetl-hub publish do"
    )


def test_inspect_reads_an_sdist_and_a_wheel(tmp_path: Path) -> None:
    import tarfile

    from pysetl_hub_server.publishing.validate import inspect
    from pysetl_hub_server.settings import UploadLimits
    from tests.support.dists import write_tar, write_zip

    pkg_info = b"Metadata-Version: 2.1\nName: csv-dedupe\nVersion: 1.0.0\n"
    sdist = write_tar(
        tmp_path / "csv_dedupe-1.0.0.tar.gz",
        [(tarfile.TarInfo("csv-dedupe-1.0.0/PKG-INFO"), pkg_info)],
    )
    contents = inspect(sdist, parse_filename("csv-dedupe-1.0.0.tar.gz"), UploadLimits())
    assert contents.metadata == pkg_info
    wheel = write_zip(tmp_path / "csv_dedupe-1.0.0-py3-none-any.whl", [("x.py", b"")])
    with pytest.raises(HubError) as caught:  # the wheel path is taken: no .dist-info
        inspect(wheel, parse_filename(wheel.name), UploadLimits())
    assert caught.value.code == "archive.dist_info"
