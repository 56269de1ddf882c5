"""`install --locked`: exactly the files a `pylock.toml` names, checked against the lock alone.

The lock is the source of truth. Each file is downloaded from the URL the lock records (or
taken from the content-addressed cache) and must hash to the lock's sha256; a file the lock
says was signed must carry an attestation that verifies for the lock's publisher, whoever the
hub lists as trusted publishers today and whatever the local pins say. Every file is checked
before the installer runs, so one mismatch installs nothing. Files are installed with
`--no-deps`: the lock already lists every dependency the hub serves, and the rest
(`not-locked`) stays with the installer's own index.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, cast

import msgspec
from packaging.markers import Environment as MarkerEnvironment
from packaging.pylock import PackageWheel, Pylock, PylockSelectError
from packaging.tags import Tag, parse_tag

from pysetl_hub import errors
from pysetl_hub.client import HubClient
from pysetl_hub.environment import Environment
from pysetl_hub.i18n import _
from pysetl_hub.install import FileCache, install_command, run_installer
from pysetl_hub.lockfile import Locked, locked_file
from pysetl_hub_provenance import (
    AttestationRejected,
    PublisherSpecError,
    TrustRootError,
    from_pep740,
    same_identity,
    verify_attestation,
)
from pysetl_hub_schemas import FileInfo, Provenance, Publisher


@dataclass(frozen=True)
class LockCheck:
    """The outcome for one locked file."""

    file: Locked
    path: Path
    status: Literal["verified", "unsigned"]


def _tags(env: Environment) -> list[Tag]:
    return [t for text in env.tags for t in parse_tag(text)]


def select(path: Path, lock: Pylock, env: Environment) -> list[Locked]:
    """The file of each package for `env`, by PEP 751's installer rules (packaging's)."""
    try:
        chosen = list(
            lock.select(
                environment=cast(MarkerEnvironment, dict(env.markers)) if env.markers else None,
                tags=_tags(env) if env.tags else None,
            )
        )
    except PylockSelectError as exc:
        raise errors.LockFileError(str(path), str(exc)) from exc
    files = []
    for package, source in chosen:
        if not isinstance(source, PackageWheel) and source is not package.sdist:
            raise errors.LockFileError(
                str(path),
                _("{name}: only wheels and sdists can be installed from a lock").format(
                    name=package.name
                ),
            )
        files.append(locked_file(path, package, source))
    return files


def _info(f: Locked) -> FileInfo:
    kind: Literal["bdist_wheel", "sdist"] = (
        "bdist_wheel" if f.filename.endswith(".whl") else "sdist"
    )
    return FileInfo(
        filename=f.filename,
        url=f.url,
        packagetype=kind,
        size=f.size or 0,
        hashes={"sha256": f.sha256},
        upload_time=datetime.now(UTC),
    )


def _provenance(client: HubClient, f: Locked, lock: str) -> Provenance | None:
    assert f.provenance is not None
    hub = client.config.url
    if not f.provenance.startswith(hub + "/"):
        raise errors.LockFileError(
            lock,
            _("{file}: its provenance URL {url} is not on the lock's hub {hub}").format(
                file=f.filename, url=f.provenance, hub=hub
            ),
        )
    try:
        file = msgspec.structs.replace(_info(f), provenance=f.provenance[len(hub) :])
        return client.provenance(file)
    except errors.NotFound:
        return None


def check_publisher(
    client: HubClient, f: Locked, lock: str, trust_root: Path | None
) -> Literal["verified", "unsigned"]:
    """Verify `f`'s attestation for the lock's publisher; its bytes already hash to the lock's
    sha256. Raises LockedPublisherMismatch when someone else signed it, or nobody did."""
    expected = f.publisher
    if expected is None:
        return "unsigned"
    if f.provenance is None:
        raise errors.LockFileError(
            lock, _("{file}: a publisher is recorded but no provenance URL").format(file=f.filename)
        )

    def mismatch(found: str) -> errors.LockedPublisherMismatch:
        return errors.LockedPublisherMismatch(f.filename, str(expected), found, lock)

    provenance = _provenance(client, f, lock)
    if provenance is None or not provenance.attestation_bundles:
        raise mismatch(_("unsigned"))
    checked = 0
    for bundle in provenance.attestation_bundles:
        try:
            declared: Publisher = from_pep740(bundle.publisher)
        except PublisherSpecError as exc:
            raise errors.SignatureInvalid(f.filename, "format", str(exc)) from exc
        if not same_identity(declared, expected):
            raise mismatch(_("signed by {publisher}").format(publisher=declared))
        for attestation in bundle.attestations:
            try:
                verify_attestation(
                    attestation,
                    filename=f.filename,
                    sha256=f.sha256,
                    publishers=[expected],
                    trust_root=trust_root,
                )
            except AttestationRejected as exc:
                if exc.check == "publisher":
                    raise mismatch(
                        _("signed by someone else ({detail})").format(detail=exc.detail)
                    ) from exc
                raise errors.SignatureInvalid(f.filename, exc.check, exc.detail) from exc
            except TrustRootError as exc:
                raise errors.ConfigError(str(exc)) from exc
            checked += 1
    if not checked:
        raise mismatch(_("unsigned"))
    return "verified"


def fetch_locked(
    client: HubClient,
    files: list[Locked],
    lock: str,
    *,
    trust_root: Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[LockCheck]:
    """Every locked file in the cache, its sha256 and publisher checked against the lock."""
    cache = FileCache(client.config.cache_dir)
    paths = []
    for f in files:
        try:
            paths.append(cache.fetch(client, f.name, f.version, _info(f), progress))
        except errors.IntegrityError as exc:
            raise errors.LockedHashMismatch(f.filename, exc.expected, exc.actual, lock) from exc
    return [
        LockCheck(f, p, check_publisher(client, f, lock, trust_root))
        for f, p in zip(files, paths, strict=True)
    ]


def install_locked(
    client: HubClient,
    files: list[Locked],
    lock: str,
    *,
    python: str,
    installer: str = "pip",
    trust_root: Path | None = None,
    progress: Callable[[int], None] | None = None,
    on_command: Callable[[list[str]], None] | None = None,
    on_output: Callable[[str], None] | None = None,
) -> list[LockCheck]:
    """Check every file, then install them all in one installer call, without dependencies."""
    checks = fetch_locked(client, files, lock, trust_root=trust_root, progress=progress)
    command = install_command(installer, python, [c.path for c in checks], no_deps=True)
    if on_command is not None:
        on_command(command)
    run_installer(command, on_output)
    return checks
