"""Read models for the index: plain snapshots loaded in one query each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from packaging.version import Version
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

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
    component = await session.scalar(
        select(Component)
        .where(Component.name == name, Component.quarantined_at.is_(None))
        .options(selectinload(Component.releases).selectinload(Release.files))
    )
    if component is None:
        return None
    releases = sorted(component.releases, key=lambda r: Version(r.version))
    files: list[IndexFile] = []
    for release in releases:
        yanked = (release.yanked_reason or "") if release.yanked else None
        for f in sorted(release.files, key=lambda f: f.filename):
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
                    provenance=provenance_url(component.name, release.version, f.filename)
                    if f.signer
                    else None,
                )
            )
    return ProjectSnapshot(
        name=component.name,
        display_name=component.display_name,
        serial=component.last_serial,
        versions=[r.version for r in releases if r.files],
        files=files,
    )


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
