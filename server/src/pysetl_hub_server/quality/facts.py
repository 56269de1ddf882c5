"""What a stored distribution file holds, read from its bytes in memory (never extracted to
disk): tests in an sdist, `.pth` files in a wheel, and whether each entry point's object has a
docstring. Bounded: a member count, and a size cap on the few members read whole.

The file passed the upload checks (paths, links, bombs) before it was stored; reading stays
defensive anyway: an unreadable archive gives `readable=False`, never an error.
"""

from __future__ import annotations

import io
import re
import tarfile
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO

from pysetl_hub_server.quality.docstrings import (
    MAX_SOURCE,
    has_docstring,
    module_paths,
    split_value,
)

MAX_MEMBERS = 20_000
TEST_FILE = re.compile(r"(^|/)(test_[^/]*\.py|[^/]*_test\.py|conftest\.py)$")
TEST_DIR = re.compile(r"(^|/)tests?/")
# `.pth` files site.py runs: at the wheel's root, or in its purelib/platlib data directories.
PTH = re.compile(r"^(?:[^/]+\.data/(?:purelib|platlib)/)?[^/]+\.pth$")


@dataclass(frozen=True, slots=True)
class Facts:
    has_tests: bool = False
    pth: list[str] = field(default_factory=list)
    documented: dict[str, bool] = field(default_factory=dict)
    readable: bool = True


def read_facts(data: bytes, packagetype: str, entry_points: Mapping[str, str]) -> Facts:
    """Facts of one file; `entry_points` maps each entry point's name to its value."""
    try:
        if packagetype == "bdist_wheel":
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                members = _zip_members(archive)
                return _facts(members, entry_points, sdist=False)
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            return _facts(_tar_members(tar), entry_points, sdist=True)
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError, ValueError):
        return Facts(readable=False)


def _zip_members(archive: zipfile.ZipFile) -> Iterator[tuple[str, IO[bytes] | None]]:
    for info in archive.infolist()[:MAX_MEMBERS]:
        if info.is_dir():
            continue
        yield info.filename, (archive.open(info) if info.file_size <= MAX_SOURCE else None)


def _tar_members(tar: tarfile.TarFile) -> Iterator[tuple[str, IO[bytes] | None]]:
    for count, member in enumerate(tar):
        if count >= MAX_MEMBERS:
            return
        if not member.isfile():
            continue
        name = member.name
        # An sdist holds one top-level directory: names are read relative to it.
        rel = name.split("/", 1)[1] if "/" in name else name
        yield rel, (tar.extractfile(member) if member.size <= MAX_SOURCE else None)


def _facts(
    members: Iterator[tuple[str, IO[bytes] | None]], entry_points: Mapping[str, str], *, sdist: bool
) -> Facts:
    wanted: dict[str, list[str]] = {}  # source path -> entry point names it serves
    for ep, value in entry_points.items():
        module, _attr = split_value(value)
        for path in module_paths(module):
            for prefix in ("", "src/") if sdist else ("",):
                wanted.setdefault(prefix + path, []).append(ep)
    sources: dict[str, bytes] = {}
    has_tests = False
    pth: list[str] = []
    for name, handle in members:
        if sdist and (TEST_FILE.search(name) or TEST_DIR.search(name)):
            has_tests = True
        if not sdist and PTH.match(name):
            pth.append(name)
        if name in wanted and handle is not None:
            sources[name] = handle.read(MAX_SOURCE + 1)
    documented = {}
    for ep, value in entry_points.items():
        module, attr = split_value(value)
        found = [
            sources[p]
            for path in module_paths(module)
            for p in (path, f"src/{path}")
            if p in sources
        ]
        documented[ep] = bool(found) and has_docstring(found[0], attr)
    return Facts(has_tests=has_tests, pth=sorted(pth), documented=documented)
