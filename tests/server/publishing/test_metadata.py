"""Metadata text is text, links are web links, and the description has one cap."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from pysetl_hub_server.errors import InvalidUpload
from pysetl_hub_server.publishing.metadata import check_text
from pysetl_hub_server.settings import UploadLimits
from tests.server.publishing.test_validate import _sdist_entries, assert_nothing_stored, rejects
from tests.support.dists import write_tar
from tests.support.live import LiveServer
from tests.support.upload import upload

HEAD = "Metadata-Version: 2.1\nName: csv-dedupe\nVersion: 1.0.0\n"
LIMITS = UploadLimits()


def _raw(headers: str, body: str = "") -> bytes:
    return (HEAD + headers + ("\n" + body if body else "")).encode()


ACCEPTED = [
    ("Summary: Dedupe CSV rows \u2014 fast\n", ""),
    ("Home-page: UNKNOWN\nLicense: UNKNOWN\n", ""),  # setuptools before 62
    ("Home-page: https://example.org/x\nDownload-URL: http://example.org/x.tar.gz\n", ""),
    ("Project-URL: Source, https://github.com/acme/x\nProject-URL: Docs, HTTP://x.org\n", ""),
    ("License: MIT\n        |\n        |Permission is hereby granted,\n", ""),
    ("Description-Content-Type: text/markdown\n", "# Title\n\n\tcode\r\nline\n"),
    ("", "\u0645\u0631\u062d\u0628\u0627 \u200f(RTL text with a mark)\u202e in a README\n"),
    ("Summary: caf\u00e9 \u00fc\u00e7\twith a tab\n", ""),
    ("", "docutils' README has page breaks\f and\vtabs\n"),
]

REFUSED = [
    ("Summary: bell\x07here\n", "", "metadata.control_character"),
    ("Summary: esc \x1b[31mred\n", "", "metadata.control_character"),
    ("Summary: next line \x85 C1\n", "", "metadata.control_character"),
    ("Summary: exe.\u202egpj\n", "", "metadata.control_character"),
    ("Author: a\u2066b\n", "", "metadata.control_character"),
    ("Keywords: a,b\x00c\n", "", "metadata.control_character"),
    ("Summary: vertical\vtab\n", "", "metadata.control_character"),
    ("Classifier: Topic :: \x0b\n", "", "metadata.control_character"),
    ("", "A README with a NUL \x00 inside\n", "metadata.control_character"),
    ("", "A README with an escape \x1b]8;;evil\x1b\\ link\n", "metadata.control_character"),
    ("Project-URL: Home, javascript:alert(1)\n", "", "metadata.url"),
    ("Project-URL: Home, JavaScript:alert(1)\n", "", "metadata.url"),
    ("Project-URL: Docs, data:text/html;base64,PHNjcmlwdD4=\n", "", "metadata.url"),
    ("Home-page: file:///etc/passwd\n", "", "metadata.url"),
    ("Download-URL: ftp://example.org/x\n", "", "metadata.url"),
    ("Home-page: https:evil\n", "", "metadata.url"),
    ("Home-page: //example.org/x\n", "", "metadata.url"),
    ("Home-page: http://[::1\n", "", "metadata.url"),  # urlsplit raises on this one
    ("Project-URL: " + "L" * 33 + ", https://x.org\n", "", "metadata.url"),
    ("Home-page: https://x.org/" + "a" * 2048 + "\n", "", "metadata.url"),
]


@pytest.mark.parametrize(("headers", "body"), ACCEPTED)
def test_real_text_is_accepted(headers: str, body: str) -> None:
    check_text(_raw(headers, body), LIMITS)


@pytest.mark.parametrize(("headers", "body", "code"), REFUSED)
def test_hostile_text_is_refused(headers: str, body: str, code: str) -> None:
    with pytest.raises(InvalidUpload) as caught:
        check_text(_raw(headers, body), LIMITS)
    assert caught.value.code == code, caught.value.detail


def test_the_description_cap_is_the_forms_cap() -> None:
    limits = UploadLimits(max_description_size=1000)
    check_text(_raw("", "x" * 1000), limits)
    with pytest.raises(InvalidUpload) as caught:
        check_text(_raw("", "\u00e9" * 501), limits)  # 1002 bytes in UTF-8
    assert caught.value.code == "metadata.description_too_large"
    assert "same cap as the form" in caught.value.detail


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        (b"Description-Content-Type: text/plain\n\n" + b"A" * (1024 * 1024 + 1), "too_large"),
        (b"Project-URL: Home, javascript:alert(document.domain)\n", "url"),
    ],
)
def test_pkg_info_is_held_to_the_same_rules_over_http(
    live: LiveServer, http: httpx.Client, tmp_path: Path, extra: bytes, code: str
) -> None:
    """The 3.9 MiB description smuggled in PKG-INFO past the form's cap, and a script link."""
    token = live.user_with_token("alice")
    stem = "csv_dedupe-1.0.0"
    entries = _sdist_entries(stem, [])
    info, pkg_info = entries[0]
    entries[0] = (info, pkg_info + extra)
    sdist = write_tar(tmp_path / f"{stem}.tar.gz", entries)
    expected = "metadata.description_too_large" if code == "too_large" else "metadata.url"
    rejects(upload(http, token, sdist), 400, expected)
    assert_nothing_stored(live)


@pytest.mark.parametrize(
    "declared", ["1.0", "1.1", "1.2", "2.0", "2.1", "2.2", "2.3", "2.4", "2.5"]
)
@pytest.mark.parametrize(
    "fields",
    [
        "License-File: LICENSE\n",
        "Dynamic: license\n",
        "Home-page: https://example.org\n",
        "Description-Content-Type: text/markdown; charset=UTF-8; variant=GFM\n",
        "Description-Content-Type: text/x-rst\n",
        "Description-Content-Type: text/markdown; variant=CommonMark\n",
        "License-Expression: MIT\nLicense-File: LICENSE\n",
    ],
)
def test_every_metadata_version_pip_installs_is_accepted(declared: str, fields: str) -> None:
    """Lenient on shape: a field newer than the declared version, and the 2.0 that old
    bdist_wheel wrote, are read as the public index reads them."""
    from pysetl_hub_server.publishing.metadata import parse_metadata
    from pysetl_hub_server.publishing.validate import parse_filename

    raw = f"Metadata-Version: {declared}\nName: csv-dedupe\nVersion: 1.0.0\n{fields}".encode()
    metadata = parse_metadata(raw, parse_filename("csv_dedupe-1.0.0.tar.gz"), LIMITS)
    assert str(metadata.version) == "1.0.0"


@pytest.mark.parametrize("declared", ["0.9", "3.0", "2.0.1", "two"])
def test_metadata_versions_no_tool_writes_are_refused(declared: str) -> None:
    from pysetl_hub_server.publishing.metadata import parse_metadata
    from pysetl_hub_server.publishing.validate import parse_filename

    raw = f"Metadata-Version: {declared}\nName: csv-dedupe\nVersion: 1.0.0\n".encode()
    with pytest.raises(InvalidUpload) as caught:
        parse_metadata(raw, parse_filename("csv_dedupe-1.0.0.tar.gz"), LIMITS)
    assert caught.value.code == "metadata.invalid"
    assert "metadata-version" in caught.value.detail.lower()


def _parse(raw: bytes, filename: str = "csv_dedupe-1.0.0.tar.gz") -> InvalidUpload:
    from pysetl_hub_server.publishing.metadata import parse_metadata
    from pysetl_hub_server.publishing.validate import parse_filename

    with pytest.raises(InvalidUpload) as caught:
        parse_metadata(raw, parse_filename(filename), LIMITS)
    return caught.value


@pytest.mark.parametrize(
    ("raw", "code", "detail"),
    [
        (
            b"Metadata-Version: 2.1\nName: csv-other\nVersion: 1.0.0\n",
            "metadata.name_mismatch",
            "the metadata inside the archive names 'csv-other', the filename 'csv-dedupe': "
            "rebuild instead of renaming",
        ),
        (
            b"Metadata-Version: 2.1\nName: csv-dedupe\nVersion: 1.0.1\n",
            "metadata.version_mismatch",
            "the metadata inside the archive has version 1.0.1, the filename 1.0.0: rebuild "
            "instead of renaming",
        ),
        (
            b"Metadata-Version: 2.1\nName: csv-dedupe\nVersion: 1.0.0\n"
            b"Requires-Dist: evil @ https://example.org/evil.whl\n",
            "metadata.direct_url",
            "dependency 'evil @ https://example.org/evil.whl' points at a URL: published "
            "components must depend on names and versions from an index, not direct URLs",
        ),
        (
            b"Metadata-Version: 2.1\nName: csv-dedupe\nVersion: 1.0.0\nRequires-Python: >=x\n",
            "metadata.invalid",
            "the core metadata does not validate: requires-python: '>=x' is invalid for "
            "'requires-python'. Fix the project's metadata (pyproject.toml) and build again",
        ),
    ],
)
def test_metadata_refusals_name_the_rule_and_the_fix(raw: bytes, code: str, detail: str) -> None:
    error = _parse(raw)
    assert (error.code, error.detail) == (code, detail)


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (
            HEAD.encode()
            + b"Description-Content-Type: text/plain\n\n"
            + b"x" * (LIMITS.max_description_size + 1),
            "the description is 1,048,577 bytes, over this hub's cap of 1 MiB (1,048,576 bytes, "
            "the same cap as the form's description): shorten the README and link to the full "
            "documentation",
        ),
        (
            _raw("Keywords: a,b\x07\n"),
            "the metadata field 'keywords' holds the character U+0007, a control character: "
            "remove it from pyproject.toml (or the README) and build again",
        ),
        (
            _raw("Project-URL: Ho\x1bme, https://x.org\n"),
            "the metadata field 'project_urls' holds the character U+001B, a control "
            "character: remove it from pyproject.toml (or the README) and build again",
        ),
        (
            _raw("Download-URL: ftp://x.org/" + "a" * 100 + "\n"),
            "the metadata field 'download_url' holds "
            + repr("ftp://x.org/" + "a" * 68)
            + ", which is not an http(s) URL: project links must be http:// or https:// URLs",
        ),
        (
            _raw("Project-URL: Docs, https://x.org/" + "a" * 2035 + "\n"),
            "the URL in 'project_urls[Docs]' is longer than 2048 characters",
        ),
        (
            _raw("Project-URL: " + "L" * 50 + ", https://x.org\n"),
            f"the Project-URL label {'L' * 40!r} is longer than 32 characters: shorten it",
        ),
        (
            _raw("Project-URL: " + "L" * 33 + ", https://x.org\n"),
            "the Project-URL label 'LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLL' is longer than 32 "
            "characters: shorten it",
        ),
    ],
)
def test_text_refusals_name_the_field_and_the_fix(raw: bytes, detail: str) -> None:
    with pytest.raises(InvalidUpload) as caught:
        check_text(raw, LIMITS)
    assert caught.value.detail == detail


def test_the_limits_themselves_are_accepted() -> None:
    label = "L" * 32
    url = "https://x.org/" + "a" * (2048 - len("https://x.org/"))
    check_text(_raw(f"Project-URL: {label}, {url}\nHome-page: {url}\n"), LIMITS)
    check_text(_raw("", "x" * LIMITS.max_description_size), LIMITS)
    # A tab, then a forbidden character: the scan goes on past the tab.
    with pytest.raises(InvalidUpload):
        check_text(_raw("Summary: a\tb\x07\n"), LIMITS)
