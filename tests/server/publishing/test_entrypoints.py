"""Entry points follow the specification's grammar; PySetl's own groups its recommended form."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from pysetl_hub_schemas import FACTORIES, PIPELINES
from pysetl_hub_server.errors import InvalidUpload
from pysetl_hub_server.publishing.archive import ArchiveContents
from pysetl_hub_server.publishing.entrypoints import check_entry_point, pysetl_entry_points
from tests.server.publishing.test_validate import WHEEL, assert_nothing_stored, rejects
from tests.support.dists import Members, repack
from tests.support.live import LiveServer
from tests.support.upload import upload

ACCEPTED = [
    (FACTORIES, "MyFactory", "my_pkg:MyFactory"),
    (FACTORIES, "my-factory.v2", "my_pkg.factories:MyFactory"),
    (PIPELINES, "_daily", "pkg.sub.mod:Outer.Inner"),
    (PIPELINES, "Daily", " pkg : make_pipeline "),
    (FACTORIES, "Dedupe", "csv_dedupe:Dedupe [spark]"),
    (FACTORIES, "Dedupe", "csv_dedupe:Dedupe [spark, fast-io]"),
    ("console_scripts", "pysetl-hub", "pysetl_hub.cli:main"),
    ("console_scripts", "foo+bar", "pkg.__main__:main"),
    ("pytest11", "my plugin", "pkg.plugin"),  # the spec allows a module alone and spaces
    ("console_scripts", "no\u00a0break", "pkg:main"),  # U+00A0 is text, not a control
    ("flake8.extension", "E", "pkg:Plugin"),
]

REFUSED = [
    (FACTORIES, "../../evil", "pkg:F", "name"),
    (FACTORIES, ".hidden", "pkg:F", "name"),
    (FACTORIES, "a/b", "pkg:F", "name"),
    (FACTORIES, "F\u00e1ctory", "pkg:F", "name"),
    (FACTORIES, "x" * 101, "pkg:F", "name"),
    (FACTORIES, "F", "pkg", "value"),  # a factory names an object, not a module
    (FACTORIES, "F", "pkg:F; import os", "value"),
    (FACTORIES, "F", "os.system('x'):F", "value"),
    (FACTORIES, "F", "../pkg:F", "value"),
    (FACTORIES, "F", "pkg:class", "value"),
    (FACTORIES, "F", "pkg:F [x y]", "value"),
    (FACTORIES, "F", "1pkg:F", "value"),
    (FACTORIES, "F", "pkg:F:G", "value"),
    (FACTORIES, "F", "", "value"),
    ("console_scripts", " lead", "pkg:main", "name"),
    ("console_scripts", "[x", "pkg:main", "name"),
    ("console_scripts", "tool", "pkg.mod-name:main", "value"),
    ("console_scripts", "to\x1bol", "pkg:main", "control"),
    (PIPELINES, "P", "pkg:P\x00", "control"),
    ("console_scripts", "del\x7f", "pkg:main", "control"),
    ("console_scripts", "c1\x9f", "pkg:main", "control"),
    ("console_scripts", "tool", "pkg:main\u202e", "bidi"),
]


@pytest.mark.parametrize(("group", "name", "value"), ACCEPTED)
def test_real_entry_points_are_accepted(group: str, name: str, value: str) -> None:
    check_entry_point(group, name, value)


@pytest.mark.parametrize(("group", "name", "value", "what"), REFUSED)
def test_entry_points_outside_the_grammar_are_refused(
    group: str, name: str, value: str, what: str
) -> None:
    with pytest.raises(InvalidUpload) as caught:
        check_entry_point(group, name, value)
    assert caught.value.code == "entry_point.invalid"
    detail = caught.value.detail
    expected = {
        "name": "name",
        "value": "not an object reference",
        "control": "control character",
        "bidi": "bidirectional override",
    }[what]
    assert expected in detail, detail


def test_every_group_is_checked_not_only_pysetl_ones() -> None:
    contents = ArchiveContents(
        b"",
        {FACTORIES: {"F": "pkg:F"}, "console_scripts": {"tool": "pkg:main; rm -rf /"}},
    )
    with pytest.raises(InvalidUpload, match="console_scripts"):
        pysetl_entry_points(contents)


def test_a_hostile_entry_point_is_refused_over_http(
    live: LiveServer, http: httpx.Client, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    token = live.user_with_token("alice")

    def evil(m: Members) -> None:
        key = next(k for k in m if k.endswith(".dist-info/entry_points.txt"))
        m[key] = f"[{FACTORIES}]\n../../evil = csv_dedupe:Dedupe\n".encode()

    wheel = repack(example_dists[WHEEL], tmp_path, mutate=evil)
    body = rejects(upload(http, token, wheel), 400, "entry_point.invalid")
    assert "../../evil" in str(body["detail"])
    assert_nothing_stored(live)


def test_only_the_dist_info_entry_points_file_counts(
    example_dists: dict[str, Path], tmp_path: Path
) -> None:
    """A package file also called entry_points.txt, later in the archive, changes nothing."""
    from pysetl_hub_server.publishing.archive import inspect_wheel
    from pysetl_hub_server.settings import UploadLimits

    def decoy(m: Members) -> None:
        m["csv_dedupe/entry_points.txt"] = b"[console_scripts]\nx = y:z\n"

    wheel = repack(example_dists[WHEEL], tmp_path, mutate=decoy)
    contents = inspect_wheel(wheel, UploadLimits(), "csv_dedupe-1.0.0")
    assert FACTORIES in contents.entry_points
    assert "console_scripts" not in contents.entry_points


def test_no_pysetl_entry_point_says_how_to_declare_one() -> None:
    contents = ArchiveContents(b"", {"console_scripts": {"tool": "pkg:main"}})
    with pytest.raises(InvalidUpload) as caught:
        pysetl_entry_points(contents)
    assert caught.value.code == "component.not_pysetl"
    assert caught.value.detail == (
        "not a PySetl component: the distribution declares no entry point in "
        "'pysetl.factories' or 'pysetl.pipelines'; add one, e.g. "
        '[project.entry-points."pysetl.factories"] MyFactory = "my_pkg:MyFactory"'
    )


def test_found_entry_points_are_sorted_stripped_and_kinded() -> None:
    contents = ArchiveContents(
        b"",
        {
            PIPELINES: {"b": "pkg:B", "a": " pkg:A "},
            FACTORIES: {"F": "pkg:F"},
            "console_scripts": {"tool": "pkg:main"},
        },
    )
    found = [(e.group, e.name, e.value, e.kind) for e in pysetl_entry_points(contents)]
    assert found == [
        (FACTORIES, "F", "pkg:F", "factory"),
        (PIPELINES, "a", "pkg:A", "pipeline"),
        (PIPELINES, "b", "pkg:B", "pipeline"),
    ]


@pytest.mark.parametrize(
    ("group", "name", "value", "detail"),
    [
        (
            FACTORIES,
            "a/b",
            "pkg:F",
            "entry point 'a/b' in group 'pysetl.factories': a PySetl entry point's name is 1-100 "
            "ASCII letters, digits, '_', '.' or '-' and starts with a letter, digit or '_'; "
            "rename it, e.g. `MyFactory`",
        ),
        (
            "console_scripts",
            "[x",
            "pkg:main",
            "entry point '[x' in group 'console_scripts': a name must not be empty, start or "
            "end with whitespace, or start with '['; rename it",
        ),
        (
            FACTORIES,
            "F",
            "pkg",
            "entry point 'F' in group 'pysetl.factories' has the value 'pkg', which is not an "
            "object reference: write `package.module:ObjectName` (dotted Python identifiers, "
            "e.g. `my_pkg.factories:MyFactory`)",
        ),
        (
            "console_scripts",
            "t\x1b",
            "pkg:main",
            "entry point 't\\x1b' in group 'console_scripts' holds the character U+001B, a "
            "control character: remove it and build again",
        ),
        (
            "g" * 70,
            "n" * 70,
            "v" * 90 + ":",
            f"entry point {'n' * 60!r} in group {'g' * 60!r} has the value {'v' * 80!r}, which "
            "is not an object reference: write `package.module:ObjectName` (dotted Python "
            "identifiers, e.g. `my_pkg.factories:MyFactory`)",
        ),
    ],
)
def test_each_refusal_says_what_and_how_to_fix(
    group: str, name: str, value: str, detail: str
) -> None:
    with pytest.raises(InvalidUpload) as caught:
        check_entry_point(group, name, value)
    assert caught.value.detail == detail
