"""Which installed or locked distributions the hub's advisories affect (`pysetl-hub audit`),
and which versions of a component an advisory affects (the resolver's preference).

The hub speaks the OSV query API: the audit sends one `querybatch` for every distribution,
then reads each advisory found from `/osv/v1/vulns/{id}`. The resolver reads a component's
advisories with one `query` (no version) and decides locally, comparing PEP 440 versions as
the hub does (OSV `ECOSYSTEM` ranges: `introduced` opens, `fixed`/`last_affected` closes).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from pysetl_hub.environment import TargetError
from pysetl_hub.errors import ConfigError
from pysetl_hub.i18n import _

if TYPE_CHECKING:
    from pysetl_hub_schemas.osv import AuditFinding, Osv, OsvAffected, OsvBatchResponse, OsvQuery

Installed = list[tuple[str, str]]  # (name, version)
BATCH = 500  # queries per request (the hub takes up to 1000)

_LIST = (
    "import json, importlib.metadata as m\n"
    "print(json.dumps(sorted({(d.metadata['Name'], d.version) for d in m.distributions()"
    " if d.metadata['Name']})))"
)


def installed(python: str | None = None) -> Installed:
    """Every distribution installed for `python` (default: this interpreter)."""
    exe = python or sys.executable
    try:
        out = subprocess.run(
            [exe, "-I", "-c", _LIST], capture_output=True, text=True, check=True, timeout=60
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise TargetError(
            _("cannot inspect the interpreter {python}: {error}").format(python=exe, error=exc)
        ) from exc
    return [(str(n), str(v)) for n, v in json.loads(out)]


def locked(path: Path) -> Installed:
    """The `[[packages]]` of a PEP 751 lock file that name a version (others are skipped:
    a directory or VCS entry has none to check)."""
    import tomllib

    try:
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            _("cannot read the lock file {path}: {error}").format(path=path, error=exc)
        ) from exc
    packages = data.get("packages")
    if not isinstance(packages, list):
        raise ConfigError(
            _("{path} has no [[packages]] table: is it a PEP 751 lock file (pylock.toml)?").format(
                path=path
            )
        )
    found: Installed = []
    for p in packages:
        if (
            isinstance(p, dict)
            and isinstance(p.get("name"), str)
            and isinstance(p.get("version"), str)
        ):
            found.append((p["name"], p["version"]))
    return found


def _in_range(version: Version, events: Iterable[tuple[str, str]]) -> bool:
    def key(e: tuple[str, str]) -> tuple[int, Version]:
        kind, value = e
        return (0, Version("0")) if kind == "introduced" and value == "0" else (1, Version(value))

    affected = False
    for kind, value in sorted(events, key=key):
        if kind == "introduced" and (value == "0" or version >= Version(value)):
            affected = True
        elif (kind == "fixed" and version >= Version(value)) or (
            kind == "last_affected" and version > Version(value)
        ):
            affected = False
    return affected


def _entry_affects(entry: OsvAffected, version: Version) -> bool:
    try:
        if any(Version(v) == version for v in entry.versions):
            return True
        for r in entry.ranges:
            if r.type != "ECOSYSTEM":
                continue
            pairs = [
                (k, v)
                for e in r.events
                for k, v in (
                    ("introduced", e.introduced),
                    ("fixed", e.fixed),
                    ("last_affected", e.last_affected),
                )
                if v is not None
            ]
            if _in_range(version, pairs):
                return True
    except InvalidVersion:
        return False
    return False


def affects(osv: Osv, name: str, version: str) -> bool:
    """Whether `osv` (not withdrawn) affects `name` `version`."""
    if osv.withdrawn is not None:
        return False
    try:
        v = Version(version)
    except InvalidVersion:
        return False
    wanted = canonicalize_name(name)
    return any(
        canonicalize_name(a.package.name) == wanted
        and a.package.ecosystem == "PyPI"
        and _entry_affects(a, v)
        for a in osv.affected
    )


def fixed_in(osv: Osv, name: str) -> list[str]:
    wanted = canonicalize_name(name)
    found = {
        e.fixed
        for a in osv.affected
        if canonicalize_name(a.package.name) == wanted
        for r in a.ranges
        for e in r.events
        if e.fixed is not None
    }
    return sorted(found, key=Version)


def findings(
    pairs: Installed,
    batch: Callable[[list[OsvQuery]], OsvBatchResponse],
    vuln: Callable[[str], Osv],
) -> list[AuditFinding]:
    """The distributions of `pairs` that advisories affect. `batch(queries)` sends one OSV
    querybatch and `vuln(id)` reads one advisory (the client's calls)."""
    from pysetl_hub_schemas.osv import AuditAdvisory, AuditFinding, OsvQuery, OsvQueryPackage

    unique = sorted({(canonicalize_name(n), v) for n, v in pairs})
    details: dict[str, Osv] = {}
    out: list[AuditFinding] = []
    for start in range(0, len(unique), BATCH):
        chunk = unique[start : start + BATCH]
        queries = [
            OsvQuery(package=OsvQueryPackage(name=n, ecosystem="PyPI"), version=v) for n, v in chunk
        ]
        for (name, version), result in zip(chunk, batch(queries).results, strict=True):
            ids = [ref.id for ref in (result.vulns or [])]
            if not ids:
                continue
            advisories = []
            for osv_id in ids:
                if osv_id not in details:
                    details[osv_id] = vuln(osv_id)
                osv = details[osv_id]
                advisories.append(
                    AuditAdvisory(
                        id=osv.id,
                        aliases=list(osv.aliases),
                        summary=osv.summary or "",
                        fixed_in=fixed_in(osv, name),
                    )
                )
            out.append(AuditFinding(name=name, version=version, advisories=advisories))
    return out
