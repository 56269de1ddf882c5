"""Real distributions for tests: built from examples/ and re-packed into variants.

`build_example` runs the real build frontend on an example project. `repack` writes a new
wheel from a built one with a changed name/version/metadata or extra members, recomputing
RECORD so the result is a valid wheel unless a test asks for a broken one; `repack_sdist`
does the same for an sdist (its top-level directory, PKG-INFO and pyproject.toml follow).
"""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def build_example(name: str, out: Path, *, version: str | None = None) -> list[Path]:
    """Build an example's wheel and sdist with `python -m build` (no isolation: offline)."""
    src = EXAMPLES / name
    if version is not None:
        work = out / f"src-{name}-{version}"
        shutil.copytree(src, work)
        py = work / "pyproject.toml"
        text = py.read_text()
        old = next(line for line in text.splitlines() if line.startswith("version = "))
        py.write_text(text.replace(old, f'version = "{version}"', 1))
        src = work
    dist = out / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "-o", str(dist), str(src)],
        check=True,
        capture_output=True,
    )
    return sorted(dist.iterdir())


def _record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


Members = dict[str, bytes]


def read_wheel(path: Path) -> Members:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def repack(
    wheel: Path,
    out_dir: Path,
    *,
    name: str | None = None,
    version: str | None = None,
    filename: str | None = None,
    mutate: Callable[[Members], None] | None = None,
    rewrite_record: bool = True,
    tamper: Callable[[Members], None] | None = None,
) -> Path:
    """A new wheel from `wheel` with another name/version (METADATA and dist-info follow).

    `mutate` changes the members before RECORD is rewritten to match them, `tamper` after."""
    members = read_wheel(wheel)
    old_name, old_version = wheel.name.split("-")[:2]
    new_name = canonicalize_name(name).replace("-", "_") if name else old_name
    new_version = version or old_version
    old_info = f"{old_name}-{old_version}.dist-info/"
    new_info = f"{new_name}-{new_version}.dist-info/"
    renamed: Members = {}
    for member, data in members.items():
        if member.startswith(old_info):
            member = new_info + member[len(old_info) :]
        if member.endswith(".dist-info/METADATA"):
            lines = data.decode().splitlines()
            for i, line in enumerate(lines):
                if line.startswith("Name: ") and name:
                    lines[i] = f"Name: {name}"
                elif line.startswith("Version: ") and version:
                    lines[i] = f"Version: {version}"
            data = ("\n".join(lines) + "\n").encode()
        renamed[member] = data
    if mutate is not None:
        mutate(renamed)
    record_name = new_info + "RECORD"
    if rewrite_record and record_name in renamed:
        rows = [f"{m},{_record_hash(d)},{len(d)}" for m, d in renamed.items() if m != record_name]
        rows.append(f"{record_name},,")
        renamed[record_name] = ("\n".join(rows) + "\n").encode()
    if tamper is not None:
        tamper(renamed)
    tags = wheel.name.split("-", 2)[2]
    target = out_dir / (filename or f"{new_name}-{new_version}-{tags}")
    out_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in renamed.items():
            zf.writestr(member, data)
    return target


def write_zip(path: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in entries:
            zf.writestr(info, data)
    return path


def write_tar(path: Path, entries: list[tuple[tarfile.TarInfo, bytes]]) -> Path:
    # Level 6, as zipfile's default: level 9 takes seconds a megabyte on repetitive data.
    with tarfile.open(path, "w:gz", compresslevel=6) as tar:
        for info, data in entries:
            info.size = len(data) if info.isfile() else 0
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return path


def read_sdist(path: Path) -> tuple[str, Members]:
    """The top-level directory of an sdist and its regular files, by path below it."""
    with tarfile.open(path, "r:gz") as tar:
        members = [m for m in tar.getmembers() if m.isfile()]
        top = members[0].name.split("/", 1)[0]
        files: Members = {}
        for member in members:
            handle = tar.extractfile(member)
            assert handle is not None
            files[member.name.split("/", 1)[1]] = handle.read()
    return top, files


def repack_sdist(
    sdist: Path,
    out_dir: Path,
    *,
    name: str | None = None,
    version: str | None = None,
    mutate: Callable[[Members], None] | None = None,
    extra: list[tuple[tarfile.TarInfo, bytes]] | None = None,
    filename: str | None = None,
) -> Path:
    """A new sdist from `sdist` with another name/version (PKG-INFO, pyproject.toml and the
    top-level directory follow); `extra` entries are added as given (links, devices, ...)."""
    top, files = read_sdist(sdist)
    old_name, _, old_version = top.rpartition("-")
    new_name = canonicalize_name(name).replace("-", "_") if name else old_name
    new_version = version or old_version
    for key in ("PKG-INFO", "pyproject.toml"):
        lines = files[key].decode().splitlines()
        done: set[str] = set()
        for i, line in enumerate(lines):
            for field, value, template in (
                ("name", name, "Name: {}" if key == "PKG-INFO" else 'name = "{}"'),
                ("version", version, "Version: {}" if key == "PKG-INFO" else 'version = "{}"'),
            ):
                prefix = template.split("{}")[0]
                if value and field not in done and line.startswith(prefix):
                    lines[i] = template.format(value)
                    done.add(field)
        files[key] = ("\n".join(lines) + "\n").encode()
    if mutate is not None:
        mutate(files)
    stem = f"{new_name}-{new_version}"
    entries = [(tarfile.TarInfo(f"{stem}/{rel}"), data) for rel, data in files.items()]
    out_dir.mkdir(parents=True, exist_ok=True)
    return write_tar(out_dir / (filename or f"{stem}.tar.gz"), entries + list(extra or []))
