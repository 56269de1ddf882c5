"""The build-backend compatibility matrix: one component, built by every backend the hub must take.

The component's source is tests/interop/matrix/component; each cell overlays one template
directory of tests/interop/matrix/backends (a pyproject.toml pinning one exact backend version in
[build-system] requires, sometimes a setup.cfg) and builds a wheel and an sdist with `uv build`,
which fetches that backend from PyPI into an isolated build environment. The setuptools-scm cells
get their version from a tag on a throwaway git repository.

Builds are cached under build/backend-matrix/ (gitignored), one directory per cell named by a hash
of what the matrix fixes: the component source, the cell's template (so its backend pins), its git
history and the Python version (not the backends' own unpinned dependencies, nor uv's version).
A warm run reuses them; a clean clone (CI) builds every cell once, cells in parallel. Beside the
two files the cache keeps the backend's wheels (and its dependencies'), which pip and uv need to
build the sdist once they fetched it from the hub.
"""

from __future__ import annotations

import email.parser
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
import uuid
import zipfile
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

from tests.support.clients import pip, uv

ROOT = Path(__file__).resolve().parents[2]
MATRIX = ROOT / "tests" / "interop" / "matrix"
COMPONENT = MATRIX / "component"
BACKENDS = MATRIX / "backends"
CACHE = ROOT / "build" / "backend-matrix"
PYPI = "https://pypi.org/simple"
# Part of every cache key: bump it when the way a cell is built changes.
BUILD_RECIPE = "uv build (sdist, then the wheel from the sdist) + pip download of the backend, v1"
# The throwaway repository of the setuptools-scm cells: fixed names and dates, so fixed hashes.
GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "PySetl Hub matrix",
    "GIT_AUTHOR_EMAIL": "matrix@example.org",
    "GIT_COMMITTER_NAME": "PySetl Hub matrix",
    "GIT_COMMITTER_EMAIL": "matrix@example.org",
    "GIT_AUTHOR_DATE": "2025-01-01T00:00:00+00:00",
    "GIT_COMMITTER_DATE": "2025-01-01T00:00:00+00:00",
}


@dataclass(frozen=True)
class Scm:
    """A git history for setuptools-scm: `tag` on the first commit, then `commits_after` more."""

    tag: str
    commits_after: int = 0


@dataclass(frozen=True)
class Cell:
    id: str  # its template directory under backends/; the component is named matrix-<id>
    version: str  # what the built files must carry
    scm: Scm | None = None

    @property
    def name(self) -> str:
        return f"matrix-{self.id}"

    @property
    def template(self) -> Path:
        return BACKENDS / self.id

    @property
    def requires(self) -> list[str]:
        """The exact pins of [build-system] requires."""
        project = tomllib.loads((self.template / "pyproject.toml").read_text())
        requires: list[str] = project["build-system"]["requires"]
        return requires


CELLS = (
    Cell("setuptools-61", "1.0.0"),
    Cell("setuptools-68", "1.0.0"),
    Cell("setuptools-70", "1.0.0"),
    Cell("setuptools-75", "1.0.0"),
    Cell("setuptools-84", "1.0.0"),
    Cell("hatchling", "1.0.0"),
    Cell("flit-core", "1.0.0"),
    Cell("poetry-core", "1.0.0"),
    Cell("poetry-core-1", "1.0.0"),
    Cell("pdm-backend", "1.0.0"),
    Cell("setuptools-scm-7", "1.7.0", Scm("v1.7.0")),
    # A development release from the commit after the tag (local part off: no index takes one).
    Cell("setuptools-scm-8", "1.8.1.dev1", Scm("v1.8.0", commits_after=1)),
    Cell("setuptools-scm-10", "1.10.0", Scm("v1.10.0")),
)


@dataclass(frozen=True)
class Built:
    cell: Cell
    wheel: Path
    sdist: Path
    backend_wheels: Path  # the backend and its dependencies: what building the sdist needs
    seconds: float  # how long the build took; 0.0 when it came from the cache


class BuildFailed(RuntimeError):
    pass


class GitMissing(RuntimeError):
    pass


def _files(base: Path) -> list[Path]:
    return sorted(
        p
        for p in base.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )


def cache_key(cell: Cell) -> str:
    digest = hashlib.sha256()
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    for part in (BUILD_RECIPE, cell.id, cell.version, repr(cell.scm), python):
        digest.update(part.encode() + b"\0")
    for label, base in (("component", COMPONENT), ("template", cell.template)):
        for path in _files(base):
            digest.update(f"{label}/{path.relative_to(base).as_posix()}".encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def cache_entry(cell: Cell) -> Path:
    return CACHE / f"{cell.id}-{cache_key(cell)}"


def _load(cell: Cell, entry: Path, seconds: float) -> Built:
    wheels = sorted((entry / "dist").glob("*.whl"))
    sdists = sorted((entry / "dist").glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        raise BuildFailed(f"{cell.id}: expected one wheel and one sdist in {entry}")
    return Built(cell, wheels[0], sdists[0], entry / "backend-wheels", seconds)


def _run(cell: Cell, what: str, result: subprocess.CompletedProcess[str]) -> None:
    if result.returncode != 0:
        raise BuildFailed(
            f"{cell.id}: {what} failed ({result.returncode})\n{result.stdout[-4000:]}"
            f"\n{result.stderr[-4000:]}"
        )


def _git(cell: Cell, src: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")} | GIT_ENV
    result = subprocess.run(
        ["git", *args], cwd=src, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    _run(cell, f"git {args[0]}", result)


def _git_history(cell: Cell, src: Path, scm: Scm) -> None:
    if shutil.which("git") is None:
        raise GitMissing("git")
    _git(cell, src, "-c", "init.defaultBranch=main", "init", "-q")
    _git(cell, src, "add", "-A")
    _git(cell, src, "commit", "-q", "-m", "The matrix probe")
    _git(cell, src, "tag", scm.tag)
    for n in range(scm.commits_after):
        _git(cell, src, "commit", "-q", "--allow-empty", "-m", f"Work after the tag ({n + 1})")


def build(cell: Cell) -> Built:
    """The cell's wheel and sdist, from the cache or built now (and then cached)."""
    entry = cache_entry(cell)
    if entry.is_dir():
        return _load(cell, entry, 0.0)
    started = time.monotonic()
    CACHE.mkdir(parents=True, exist_ok=True)
    staged = CACHE / f".{entry.name}.{uuid.uuid4().hex}"
    # Outside the repository: hatchling applies the .gitignore of any parent directory, and the
    # repository's ignores build/.
    work = Path(tempfile.mkdtemp(prefix=f"pysetl-matrix-{cell.id}-"))
    try:
        src = work / "src"
        shutil.copytree(COMPONENT, src, ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(cell.template, src, dirs_exist_ok=True)
        if cell.scm is not None:
            _git_history(cell, src, cell.scm)
        built = uv(
            *("build", "--python", sys.executable, "--default-index", PYPI),
            *("--out-dir", str(staged / "dist"), str(src)),
            timeout=600,
        )
        _run(cell, "uv build", built)
        fetched = pip(
            *("download", "--only-binary", ":all:", "--index-url", PYPI),
            *("--dest", str(staged / "backend-wheels"), *cell.requires),
        )
        _run(cell, "pip download of the backend", fetched)
        _load(cell, staged, 0.0)  # checks the staged files before they count as a cache entry
        try:
            staged.rename(entry)
        except OSError:  # another run cached the same build first: keep that one
            if not entry.is_dir():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(staged, ignore_errors=True)
    for stale in CACHE.glob(f"{cell.id}-*"):
        if stale != entry and re.fullmatch(r"[0-9a-f]{16}", stale.name.removeprefix(f"{cell.id}-")):
            shutil.rmtree(stale, ignore_errors=True)
    return _load(cell, entry, time.monotonic() - started)


def build_all(cells: Iterable[Cell], workers: int = 4) -> dict[str, Built | Exception]:
    """Every cell built (or taken from the cache) in parallel; a failure stays with its cell."""

    def one(cell: Cell) -> Built | Exception:
        try:
            return build(cell)
        except Exception as exc:
            return exc

    cells = list(cells)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(zip((c.id for c in cells), pool.map(one, cells), strict=True))


def core_metadata(path: Path) -> Message:
    """METADATA of a wheel or PKG-INFO of an sdist, as the email-header message it is."""
    if path.name.endswith(".whl"):
        with zipfile.ZipFile(path) as zf:
            name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
            raw = zf.read(name)
    else:
        with tarfile.open(path) as tar:
            member = next(
                m
                for m in tar.getmembers()
                if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO")
            )
            handle = tar.extractfile(member)
            assert handle is not None
            raw = handle.read()
    return email.parser.BytesParser().parsebytes(raw)


# ---------------------------------------------------------------------------------------------
# The result: backend x {wheel, sdist} x {twine upload, pip install, uv install}

STEPS = ("twine upload", "pip install", "uv install")
# Core metadata fields worth a column: the legacy ones and the license ones, by backend.
SHOWN_FIELDS = ("Home-page", "Platform", "License", "License-Expression", "License-File", "Dynamic")


@dataclass
class Row:
    cell: Cell
    kind: str
    filename: str = "-"
    metadata: str = "-"
    build: str = "-"
    steps: dict[str, str] = field(default_factory=lambda: dict.fromkeys(STEPS, "-"))


@contextmanager
def step(row: Row, name: str) -> Iterator[None]:
    """Marks the step FAIL until its block completes."""
    row.steps[name] = "FAIL"
    yield
    row.steps[name] = "ok"


def describe(metadata: Message) -> str:
    shown = [f for f in SHOWN_FIELDS if metadata.get(f) is not None]
    dynamic = metadata.get_all("Dynamic") or []
    parts = [f"{f}: {', '.join(dynamic)}" if f == "Dynamic" else f for f in shown]
    return " · ".join([f"Metadata-Version {metadata['Metadata-Version']}", *parts])


def render(rows: Iterable[Row]) -> str:
    header = ["backend (exact pins)", "file", "core metadata", "build", *STEPS]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    for row in rows:
        pins = ", ".join(f"`{r}`" for r in row.cell.requires)
        cells = [f"{row.cell.id} ({pins})", f"`{row.filename}`", row.metadata, row.build]
        lines.append("| " + " | ".join([*cells, *(row.steps[s] for s in STEPS)]) + " |")
    return "\n".join(lines) + "\n"
