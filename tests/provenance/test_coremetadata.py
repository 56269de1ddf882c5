"""One reading of core metadata for the hub and its client, and a package that loads lazily."""

from __future__ import annotations

import subprocess
import sys

import pytest

import pysetl_hub_provenance
from pysetl_hub_provenance.coremetadata import CoreMetadataError, read_core_metadata


def test_lenient_on_shape_strict_on_values() -> None:
    newer = b"Metadata-Version: 2.1\nName: x\nVersion: 1.0\nLicense-File: LICENSE\n"
    assert read_core_metadata(newer).license_files == ["LICENSE"]
    old_wheel = b"Metadata-Version: 2.0\nName: x\nVersion: 1.0\nSummary: s\n"
    assert read_core_metadata(old_wheel).summary == "s"
    bad = b"Metadata-Version: 2.1\nName: x\nVersion: 1.0\nLicense-File: L\nRequires-Python: >=3.x\n"
    with pytest.raises(CoreMetadataError) as caught:
        read_core_metadata(bad)
    problems = caught.value.problems
    assert any("requires-python" in p.lower() for p in problems), problems
    assert not any("introduced in" in p for p in problems), problems


@pytest.mark.parametrize(
    ("fields", "problems"),
    [
        (
            "Requires-Python: >=3.x\nRequires-Dist: a b c\n",
            [
                "requires-python: '>=3.x' is invalid for 'requires-python'",
                "requires-dist: 'a b c' is invalid for 'requires-dist'",
            ],
        ),
        ("Foo-Bar: 1\n", ["foo-bar: unrecognized field: 'foo-bar'"]),
    ],
)
def test_each_problem_names_its_field(fields: str, problems: list[str]) -> None:
    raw = f"Metadata-Version: 2.1\nName: x\nVersion: 1.0\n{fields}".encode()
    with pytest.raises(CoreMetadataError) as caught:
        read_core_metadata(raw)
    assert sorted(caught.value.problems) == sorted(problems)  # packaging's order varies
    assert str(caught.value) == "; ".join(caught.value.problems)


def test_a_header_block_that_does_not_parse_is_one_problem() -> None:
    with pytest.raises(CoreMetadataError) as caught:
        read_core_metadata(b"Metadata-Version: 2.1\nName: x\n")
    assert caught.value.problems == ["version: 'version' is a required field"]


def test_every_exported_name_loads_and_is_listed() -> None:
    exported = set(pysetl_hub_provenance.__all__)
    for name in exported:
        assert getattr(pysetl_hub_provenance, name) is not None
    with pytest.raises(AttributeError):
        _ = pysetl_hub_provenance.no_such_name  # type: ignore[attr-defined]


def test_reading_metadata_does_not_load_sigstore() -> None:
    """The client reads metadata in every publish; verification's imports cost ~1.5 s."""
    code = (
        "import sys, pysetl_hub_provenance.coremetadata;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sigstore', 'pydantic')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
