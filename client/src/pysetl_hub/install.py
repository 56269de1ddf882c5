"""Download into a content-addressed cache, verify, and hand exactly those files to pip or uv.

The installer gets local paths of files whose sha256 was checked against the hub's digest, so
what gets installed is byte for byte what was verified: nothing is downloaded twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import msgspec

from pysetl_hub.client import HubClient
from pysetl_hub.errors import HubError, InstallError
from pysetl_hub.i18n import _
from pysetl_hub.resolve import Plan
from pysetl_hub.signatures import Checker
from pysetl_hub_schemas import GROUPS, FileInfo

CHUNK = 1 << 16


class Origin(msgspec.Struct):
    """Where a cached file came from (kept beside it, read back by `list`)."""

    hub: str
    name: str
    version: str
    filename: str
    sha256: str


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


class FileCache:
    """`<root>/files/<sha256[:2]>/<sha256>/<filename>`: named by the digest of the bytes."""

    def __init__(self, root: Path) -> None:
        self.root = root / "files"

    def directory(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def get(self, file: FileInfo) -> Path | None:
        """The cached file, re-hashed first: a file changed on disk is dropped, not trusted."""
        sha = file.hashes.get("sha256", "")
        path = self.directory(sha) / file.filename
        if not sha or not path.is_file():
            return None
        if sha256_of(path) != sha:
            shutil.rmtree(path.parent, ignore_errors=True)
            return None
        return path

    def fetch(
        self,
        client: HubClient,
        name: str,
        version: str,
        file: FileInfo,
        progress: Callable[[int], None] | None = None,
    ) -> Path:
        cached = self.get(file)
        if cached is not None:
            return cached
        sha = file.hashes["sha256"]
        directory = self.directory(sha)
        path = client.download(file, directory, progress)
        origin = Origin(
            hub=client.config.url, name=name, version=version, filename=file.filename, sha256=sha
        )
        (directory / "origin.json").write_bytes(msgspec.json.encode(origin))
        return path

    def origin_of(self, path: Path) -> Origin | None:
        """The origin of a file under this cache (from an installed dist's direct_url.json)."""
        with contextlib.suppress(ValueError, OSError, msgspec.DecodeError):
            path.resolve().relative_to(self.root.resolve())
            return msgspec.json.decode((path.parent / "origin.json").read_bytes(), type=Origin)
        return None


def uv_binary() -> str:
    found = shutil.which("uv")
    if found:
        return found
    with contextlib.suppress(ImportError, FileNotFoundError):
        from uv import find_uv_bin  # type: ignore[import-not-found, unused-ignore]

        return str(find_uv_bin())
    raise HubError(_("--installer uv needs uv: install it (pip install uv) or use --installer pip"))


def install_command(installer: str, python: str, files: list[Path], *, no_deps: bool) -> list[str]:
    extra = ["--no-deps"] if no_deps else []
    if installer == "uv":
        return [uv_binary(), "pip", "install", "--python", python, *extra, *map(str, files)]
    return [
        python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
        *extra, *map(str, files),
    ]  # fmt: skip


def run_installer(command: list[str], on_output: Callable[[str], None] | None = None) -> str:
    """Run pip or uv; each line it prints goes to `on_output` as it comes (an install can take
    half a minute), and all of it into InstallError when it fails."""
    try:
        proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            env={**os.environ, "PYTHONUNBUFFERED": "1"},  # pip's lines as they happen
        )
    except OSError as exc:
        output = _("cannot run {program}: {error}").format(program=command[0], error=exc.strerror)
        raise InstallError(command, 127, output) from exc
    lines: list[str] = []
    with proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if on_output is not None:
                on_output(line.rstrip("\r\n"))
    output = "".join(lines)
    if proc.returncode != 0:
        raise InstallError(command, proc.returncode, output)
    return output


def fetch_verified(
    client: HubClient,
    plan: Plan,
    *,
    checker: Checker | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[Path]:
    """Every file of the plan in the cache, its sha256 and then its signatures checked.

    The publisher pins the checker made are not saved here: the caller saves them once the
    files were used (installed or saved), so a failed install pins nothing."""
    cache = FileCache(client.config.cache_dir)
    files = [cache.fetch(client, p.name, p.version, p.file, progress) for p in plan.picks]
    if checker is not None:
        # fetch() proved each file's bytes hash to the published digest (while streaming,
        # or re-hashed from the cache), so the signature check takes that digest as is.
        for pick in plan.picks:
            checker.check(pick, pick.file.hashes["sha256"])
    return files


def download(
    client: HubClient,
    plan: Plan,
    dest: Path,
    *,
    checker: Checker | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[Path]:
    """As `install`, but copy the verified files into `dest` instead of installing them."""
    files = fetch_verified(client, plan, checker=checker, progress=progress)
    dest.mkdir(parents=True, exist_ok=True)
    saved = []
    for pick, path in zip(plan.picks, files, strict=True):
        target = dest / pick.file.filename
        shutil.copyfile(path, target)
        saved.append(target)
    if checker is not None:
        checker.trust.save()
    return saved


def install(
    client: HubClient,
    plan: Plan,
    *,
    python: str | None = None,
    installer: str = "pip",
    no_deps: bool = False,
    progress: Callable[[int], None] | None = None,
    checker: Checker | None = None,
    on_command: Callable[[list[str]], None] | None = None,
    on_output: Callable[[str], None] | None = None,
) -> list[Path]:
    """Download every file of the plan, check its digest and its signatures, then install
    them all in one call. The publisher pins are saved only once the installer succeeded.

    For progress: `progress` counts downloaded bytes, `on_command` gets the installer's
    command line as it starts, `on_output` each line the installer prints."""
    files = fetch_verified(client, plan, checker=checker, progress=progress)
    command = install_command(installer, python or sys.executable, files, no_deps=no_deps)
    if on_command is not None:
        on_command(command)
    run_installer(command, on_output)
    if checker is not None:
        checker.trust.save()
    return files


def uninstall(names: list[str], *, python: str | None = None, installer: str = "pip") -> str:
    exe = python or sys.executable
    if installer == "uv":
        command = [uv_binary(), "pip", "uninstall", "--python", exe, *names]
    else:
        command = [exe, "-m", "pip", "uninstall", "-y", "--disable-pip-version-check", *names]
    return run_installer(command)


# Runs in the target interpreter: its PySetl entry points and where each dist came from.
_LIST = r"""
import json, sys
from importlib import metadata
groups = json.loads(sys.argv[1])
out, seen = [], set()
for dist in metadata.distributions():
    name = dist.metadata["Name"]
    if name in seen:
        continue
    seen.add(name)
    eps = [{"group": e.group, "name": e.name, "value": e.value}
           for e in dist.entry_points if e.group in groups]
    if not eps:
        continue
    try:
        direct = json.loads(dist.read_text("direct_url.json") or "null")
    except ValueError:
        direct = None
    out.append({"name": name, "version": dist.version, "entry_points": eps,
                "url": (direct or {}).get("url")})
print(json.dumps(out))
"""


@dataclass(frozen=True)
class Installed:
    distribution: str
    version: str
    kinds: list[str]
    entry_points: list[str]
    hub: str | None


def installed(cache_root: Path, python: str | None = None) -> list[Installed]:
    exe = python or sys.executable
    proc = subprocess.run(
        [exe, "-I", "-c", _LIST, json.dumps(sorted(GROUPS))],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    if proc.returncode != 0:
        raise HubError(
            _("cannot list the components of {python}: {error}").format(
                python=exe, error=proc.stderr.strip()
            )
        )
    cache = FileCache(cache_root)
    result = []
    for d in json.loads(proc.stdout):
        hub = None
        url = d.get("url") or ""
        if url.startswith("file://"):
            origin = cache.origin_of(Path(url.removeprefix("file://")))
            hub = origin.hub if origin else None
        result.append(
            Installed(
                distribution=d["name"],
                version=d["version"],
                kinds=sorted({GROUPS[e["group"]] for e in d["entry_points"]}),
                entry_points=[e["name"] for e in d["entry_points"]],
                hub=hub,
            )
        )
    return sorted(result, key=lambda i: i.distribution.lower())
