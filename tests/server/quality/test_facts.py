"""Facts read from real built distributions (repacked): tests in the sdist, `.pth` files in a
wheel, docstrings of entry point objects read with `ast` (nothing imported)."""

from __future__ import annotations

from pathlib import Path

from pysetl_hub_server.quality.docstrings import has_docstring
from pysetl_hub_server.quality.facts import read_facts
from tests.support.dists import Members, repack, repack_sdist

EP = {"CsvDedupe": "csv_dedupe:CsvDedupe"}
UNDOCUMENTED = b"class CsvDedupe:\n    x = 1\n"


def test_a_documented_entry_point_in_a_wheel(example_dists: dict[str, Path]) -> None:
    data = example_dists["csv-dedupe:wheel"].read_bytes()
    facts = read_facts(data, "bdist_wheel", EP)
    assert facts.readable and facts.documented == {"CsvDedupe": True} and facts.pth == []


def test_an_undocumented_or_missing_object(example_dists: dict[str, Path], tmp_path: Path) -> None:
    def strip(m: Members) -> None:
        m["csv_dedupe/__init__.py"] = UNDOCUMENTED

    wheel = repack(example_dists["csv-dedupe:wheel"], tmp_path, mutate=strip)
    facts = read_facts(wheel.read_bytes(), "bdist_wheel", {**EP, "Gone": "csv_dedupe:Gone"})
    assert facts.documented == {"CsvDedupe": False, "Gone": False}


def test_a_pth_file_in_a_wheel(example_dists: dict[str, Path], tmp_path: Path) -> None:
    def add(m: Members) -> None:
        m["zzz_hook.pth"] = b"import os\n"
        m["csv_dedupe/not_top.pth"] = b""  # site.py reads .pth files at the root only

    wheel = repack(example_dists["csv-dedupe:wheel"], tmp_path, mutate=add)
    assert read_facts(wheel.read_bytes(), "bdist_wheel", EP).pth == ["zzz_hook.pth"]


def test_tests_in_an_sdist_both_ways(example_dists: dict[str, Path], tmp_path: Path) -> None:
    sdist = example_dists["csv-dedupe:sdist"]
    plain = read_facts(sdist.read_bytes(), "sdist", EP)
    assert plain.has_tests is False and plain.documented == {"CsvDedupe": True}  # src/ layout

    def add_tests(m: Members) -> None:
        m["tests/test_dedupe.py"] = b"def test_it():\n    pass\n"

    with_tests = repack_sdist(sdist, tmp_path / "t", version="1.0.1", mutate=add_tests)
    assert read_facts(with_tests.read_bytes(), "sdist", EP).has_tests is True


def test_a_broken_archive_is_unreadable_not_an_error(tmp_path: Path) -> None:
    assert read_facts(b"not a zip", "bdist_wheel", EP).readable is False
    assert read_facts(b"not a tarball", "sdist", EP).readable is False
    assert read_facts(b"\x1f\x8b" + b"\x00" * 20, "sdist", EP).readable is False  # bad gzip


def test_docstrings_are_read_statically() -> None:
    source = b'''"""Module doc."""
import sys
sys.exit("imported!")  # never runs: the source is parsed, not executed

class Outer:
    """Outer doc."""
    def method(self):
        """Method doc."""
    def bare(self):
        return 1

async def job():
    """Async doc."""

CONSTANT = 1
'''
    assert has_docstring(source, "")
    assert has_docstring(source, "Outer")
    assert has_docstring(source, "Outer.method")
    assert has_docstring(source, "job")
    assert not has_docstring(source, "Outer.bare")
    assert not has_docstring(source, "CONSTANT")
    assert not has_docstring(source, "Missing")
    assert not has_docstring(b"def broken(:\n", "broken")
