"""Read models for the index: plain snapshots loaded in one query each."""

from __future__ import annotations

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


def _snapshot(rows: list[Any]) -> ProjectSnapshot:
    by_version: dict[str, list[Any]] = {}
    for row in rows:
        if row.version is not None:
            found = by_version.setdefault(row.version, [])
            if row.filename is not None:
                found.append(row)
    files: list[IndexFile] = []
    versions: list[str] = []
    for version in sorted(by_version, key=Version):
        release_files = sorted(by_version[version], key=lambda r: r.filename)
        if release_files:
            versions.append(version)
        for f in release_files:
            yanked = (f.yanked_reason or "") if f.yanked else None
            files.append(
                IndexFile(
                    filename=f.filename,
                    url=file_url(f.sha256, f.filename),
                    sha256=f.sha256,
                    size=f.size,
                    upload_time=f.upload_time,
                    requires_python=f.requires_python,
                    metadata_sha256=f.metadata_sha256,
                    yanked=yanked,
                    provenance=provenance_url(f.name, version, f.filename) if f.signer else None,
                )
            )
    first = rows[0]
    return ProjectSnapshot(
        name=first.name,
        display_name=first.display_name,
        serial=first.last_serial,
        versions=versions,
        files=files,
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
