"""PEP 751 lock files (`pylock.toml`) with the publisher each file was verified against.

`write_lock` turns a resolved and verified plan into `packaging.pylock`'s typed model and writes
it with tomli-w; `read_lock` parses and validates a file with the same model. The standard keys
carry what any PEP 751 installer needs (version, URL, size, sha256, upload time, the index);
`attestation-identities` names the publisher the way PEP 740 does, and the tool table
`[packages.tool.pysetl-hub]` keeps what `install --locked` checks again: the provenance URL and
the verified publisher of the file.

One file per package: the one the resolver picked for the target environment (the wheel with
the best tag, else the sdist), downloaded and verified before it is written down. Dependencies
the hub does not serve (pyspark, pandas, ...) are not locked: they are listed under
`[tool.pysetl-hub] not-locked` and printed, and stay with the installer's own index.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import tomli_w
from packaging.markers import InvalidMarker, Marker
from packaging.pylock import (
    Package,
    PackageSdist,
    PackageWheel,
    Pylock,
    PylockValidationError,
)
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from pysetl_hub import __version__
from pysetl_hub.environment import Environment
from pysetl_hub.errors import LockFileError
from pysetl_hub.i18n import _
from pysetl_hub.resolve import Pick, Plan
from pysetl_hub_provenance import to_pep740
from pysetl_hub_schemas import Publisher

TOOL = "pysetl-hub"
CREATED_BY = "pysetl-hub"
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Locked:
    """One file a lock pins: what `install --locked` downloads and checks."""

    name: str
    version: str
    filename: str
    url: str
    size: int | None
    sha256: str
    provenance: str | None
    publisher: Publisher | None


def absolute(hub: str, url: str) -> str:
    return url if "://" in url else f"{hub}{url}"


def _publisher_table(p: Publisher) -> dict[str, Any]:
    return {k: v for k, v in msgspec.to_builtins(p).items() if v is not None}


def _package(hub: str, pick: Pick, publisher: Publisher | None) -> Package:
    f = pick.file
    url = absolute(hub, f.url)
    tool: dict[str, Any] = {"hub": hub, "file": f.filename}
    if f.provenance:
        tool["provenance"] = absolute(hub, f.provenance)
    if publisher is not None:
        tool["publisher"] = _publisher_table(publisher)
    if pick.required_by:
        tool["required-by"] = pick.required_by
    hashes = {"sha256": f.hashes["sha256"]}
    upload_time = f.upload_time.replace(microsecond=0)  # PEP 751: no sub-second part
    wheel = sdist = None
    if f.packagetype == "sdist":
        sdist = PackageSdist(
            name=f.filename, upload_time=upload_time, url=url, size=f.size, hashes=hashes
        )
    else:
        wheel = PackageWheel(
            name=f.filename, upload_time=upload_time, url=url, size=f.size, hashes=hashes
        )
    requires_python = pick.release.compatibility.requires_python
    identities = (
        [{k: v for k, v in to_pep740(publisher).items() if v is not None}] if publisher else None
    )
    return Package(
        name=canonicalize_name(pick.name),
        version=Version(pick.version),
        requires_python=SpecifierSet(requires_python) if requires_python else None,
        index=f"{hub}/simple/",
        sdist=sdist,
        wheels=[wheel] if wheel else None,
        attestation_identities=identities,
        tool={TOOL: tool},
    )


def environments(markers: Iterable[str], env: Environment) -> list[Marker] | None:
    """The `--environment` markers, each checked to hold for the environment resolved for."""
    parsed = []
    for text in markers:
        try:
            marker = Marker(text)
        except InvalidMarker as exc:
            raise LockFileError("--environment", str(exc)) from exc
        if env.markers and not marker.evaluate(dict(env.markers)):
            raise LockFileError(
                "--environment",
                _("{marker} is false for the environment the lock is resolved for ({env})").format(
                    marker=text, env=env.describe()
                ),
            )
        parsed.append(marker)
    return parsed or None


def build_lock(
    hub: str,
    requested: list[str],
    plan: Plan,
    env: Environment,
    publishers: Mapping[str, Publisher | None],
    markers: Iterable[str] = (),
) -> Pylock:
    """The PEP 751 document for `plan`; `publishers` maps each filename to the publisher its
    attestation was verified against (None when it is unsigned or was not checked)."""
    specs = [p.release.compatibility.requires_python for p in plan.picks]
    requires_python = SpecifierSet(",".join(s for s in specs if s))
    resolved_for = {"python": env.python_version, "pysetl": env.pysetl, "pyspark": env.pyspark}
    tool: dict[str, Any] = {
        "version": __version__,
        "hub": hub,
        "requested": list(requested),
        "resolved-for": {k: v for k, v in resolved_for.items() if v is not None},
        "not-locked": list(plan.external),
    }
    lock = Pylock(
        lock_version=Version("1.0"),
        created_by=CREATED_BY,
        environments=environments(markers, env),
        requires_python=requires_python if str(requires_python) else None,
        packages=[
            _package(hub, p, publishers.get(p.file.filename))
            for p in sorted(plan.picks, key=lambda p: canonicalize_name(p.name))
        ],
        tool={TOOL: tool},
    )
    lock.validate()
    return lock


def dumps(lock: Pylock) -> str:
    return tomli_w.dumps(dict(lock.to_dict()))


def write_lock(path: Path, lock: Pylock) -> None:
    """Written beside the target and renamed into place: a half-written lock never exists."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(dumps(lock), encoding="utf-8")
    tmp.replace(path)


def read_lock(path: Path) -> Pylock:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LockFileError(str(path), exc.strerror or str(exc)) from exc
    try:
        return Pylock.from_dict(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise LockFileError(str(path), _("not TOML: {error}").format(error=exc)) from exc
    except PylockValidationError as exc:
        raise LockFileError(
            str(path), _("not a valid PEP 751 lock: {error}").format(error=exc)
        ) from exc


def tool_table(table: Mapping[str, Any] | None) -> Mapping[str, Any]:
    found = (table or {}).get(TOOL, {})
    return found if isinstance(found, Mapping) else {}


def not_locked(lock: Pylock) -> list[str]:
    return [str(r) for r in tool_table(lock.tool).get("not-locked", [])]


def locked_file(path: Path, package: Package, chosen: PackageWheel | PackageSdist) -> Locked:
    """What the lock says about the file `Pylock.select` chose for `package`."""
    sha256 = chosen.hashes.get("sha256")
    if not sha256 or not chosen.url:
        raise LockFileError(
            str(path),
            _("{name}: {file} has no sha256 hash or no url").format(
                name=package.name, file=chosen.filename
            ),
        )
    if not _SHA256.fullmatch(sha256):
        # It names the file's cache directory: `../` in it would reach outside the cache.
        raise LockFileError(
            str(path),
            _("{name}: {file} has sha256 {sha256!r}, not 64 lower-case hex digits").format(
                name=package.name, file=chosen.filename, sha256=sha256[:80]
            ),
        )
    tool = tool_table(package.tool)
    ours = tool.get("file") == chosen.filename
    publisher = _recorded_publisher(path, package, tool.get("publisher") if ours else None)
    return Locked(
        name=package.name,
        version=str(package.version or ""),
        filename=chosen.filename,
        url=chosen.url,
        size=chosen.size,
        sha256=sha256,
        provenance=tool.get("provenance") if ours else None,
        publisher=publisher,
    )


def _recorded_publisher(path: Path, package: Package, table: object) -> Publisher | None:
    """The tool table's publisher, else the standard `attestation-identities` one; when both
    are there they must name the same identity (an edit to only one of them is refused)."""
    from pysetl_hub_provenance import PublisherSpecError, from_pep740, same_identity

    try:
        ours = msgspec.convert(table, Publisher) if table is not None else None
        identities = [from_pep740(dict(i)) for i in package.attestation_identities or []]
    except (msgspec.ValidationError, PublisherSpecError) as exc:
        raise LockFileError(
            str(path),
            _("{name}: the recorded publisher is not readable: {error}").format(
                name=package.name, error=exc
            ),
        ) from exc
    if ours is not None and identities and not any(same_identity(ours, i) for i in identities):
        raise LockFileError(
            str(path),
            _(
                "{name}: the tool table records publisher {publisher}, but "
                "attestation-identities records {identities}"
            ).format(
                name=package.name,
                publisher=ours,
                identities=", ".join(str(i) for i in identities),
            ),
        )
    return ours or (identities[0] if identities else None)
