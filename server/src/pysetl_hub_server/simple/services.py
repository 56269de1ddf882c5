"""Read models for the index: plain snapshots loaded in one query each."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from packaging.version import Version
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_server.answers import StoredFile
from pysetl_hub_server.db.models import AuditEvent, Component, File, Release


@dataclass(frozen=True, slots=True)
class IndexFile:
    filename: str
    url: str
    sha256: str
    size: int
    upload_time: datetime
    requires_python: str | None
    metadata_sha256: str | None
    yanked: str | None  # None = not yanked; "" = yanked without a reason
    provenance: str | None  # URL of the PEP 740 provenance object, None when unsigned


@dataclass(frozen=True, slots=True)
class ProjectSnapshot:
    name: str
    display_name: str
    serial: int
    versions: list[str]
    files: list[IndexFile]


@dataclass(frozen=True, slots=True)
class RootSnapshot:
    serial: int
    projects: list[tuple[str, str, int]]  # (normalized, display, serial)


def file_url(sha256: str, filename: str) -> str:
    """Immutable, content-addressed URL: safe to cache forever on any CDN."""
    return f"/files/{sha256}/{filename}"


def provenance_url(name: str, version: str, filename: str) -> str:
    """PEP 740 integrity API location of a file's provenance object."""
    return f"/integrity/{name}/{version}/{filename}/provenance"


async def load_project(session: AsyncSession, name: str) -> ProjectSnapshot | None:
    return (await load_projects(session, [name])).get(name)


async def load_projects(session: AsyncSession, names: list[str]) -> dict[str, ProjectSnapshot]:
    """The snapshots of several components in one query of plain rows (no ORM objects): many
    first requests at once (a cold start) cost one round trip, not one each. Names of no
    visible component are left out."""
    rows = (
        await session.execute(
            select(
                Component.name,
                Component.display_name,
                Component.last_serial,
                Release.version,
                Release.yanked,
                Release.yanked_reason,
                File.filename,
                File.sha256,
                File.size,
                File.upload_time,
                File.requires_python,
                File.metadata_sha256,
                File.signer,
            )
            .select_from(Component)
            .outerjoin(Release, Release.component_id == Component.id)
            .outerjoin(File, File.release_id == Release.id)
            .where(Component.name.in_(names), Component.quarantined_at.is_(None))
        )
    ).all()
    grouped: dict[str, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row.name, []).append(row)
    return {name: _snapshot(found) for name, found in grouped.items()}


@functools.lru_cache(maxsize=8192)
def _version(text: str) -> Version:
    """Parsed once per distinct version string: catalogues repeat the same few ("1.0.0"), and
    parsing was a fifth of a cold page's time on the event loop."""
    return Version(text)


def _snapshot(rows: list[Any]) -> ProjectSnapshot:
    # Plain tuples, unpacked by position: this runs for every page a cold start renders.
    by_version: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows:
        version, filename = row[3], row[6]
        if version is not None:
            found = by_version.setdefault(version, [])
            if filename is not None:
                found.append(tuple(row))
    name, display_name, serial = rows[0][0], rows[0][1], rows[0][2]
    files: list[IndexFile] = []
    versions: list[str] = []
    ordered = sorted(by_version, key=_version) if len(by_version) > 1 else list(by_version)
    for version in ordered:
        release_files = sorted(by_version[version], key=lambda r: r[6])
        if release_files:
            versions.append(version)
        for (
            _n,
            _d,
            _s,
            _v,
            yanked,
            reason,
            filename,
            sha256,
            size,
            at,
            python,
            meta,
            signer,
        ) in release_files:
            files.append(
                IndexFile(
                    filename=filename,
                    url=f"/files/{sha256}/{filename}",  # file_url, inlined
                    sha256=sha256,
                    size=size,
                    upload_time=at,
                    requires_python=python,
                    metadata_sha256=meta,
                    yanked=(reason or "") if yanked else None,
                    provenance=provenance_url(name, version, filename) if signer else None,
                )
            )
    return ProjectSnapshot(
        name=name, display_name=display_name, serial=serial, versions=versions, files=files
    )


async def all_names(session: AsyncSession) -> set[str]:
    """Every component's normalized name: the hub's known names."""
    return set(await session.scalars(select(Component.name)))


async def load_root(session: AsyncSession) -> RootSnapshot:
    serial = await current_serial(session)
    rows = await session.execute(
        select(Component.name, Component.display_name, Component.last_serial)
        .where(Component.quarantined_at.is_(None))
        .order_by(Component.name)
    )
    return RootSnapshot(serial, [(n, d, s) for n, d, s in rows])


async def current_serial(session: AsyncSession) -> int:
    value = await session.scalar(select(func.coalesce(func.max(AuditEvent.id), 0)))
    return int(value or 0)


async def changed_since(session: AsyncSession, serial: int) -> list[str]:
    rows = await session.scalars(select(Component.name).where(Component.last_serial > serial))
    return list(rows)


async def find_file(
    session: AsyncSession, sha256: str, filename: str
) -> tuple[StoredFile, str] | None:
    """A served file and the name of its component; a quarantined component's are not served."""
    row = (
        await session.execute(
            select(File, Component.name)
            .join(Release, Release.id == File.release_id)
            .join(Component, Component.id == Release.component_id)
            .where(
                File.filename == filename,
                File.sha256 == sha256,
                Component.quarantined_at.is_(None),
            )
        )
    ).first()
    if row is None:
        return None
    file, name = row
    return StoredFile(file.filename, file.sha256, file.size, file.metadata_sha256), name
