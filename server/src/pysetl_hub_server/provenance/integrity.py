"""PEP 740 integrity API: the provenance object of one file, as verified at upload."""

from __future__ import annotations

from packaging.utils import canonicalize_name, canonicalize_version
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_server.bounds import MAX_FILENAME, MAX_VERSION
from pysetl_hub_server.db.models import Component, File, Release
from pysetl_hub_server.errors import NotFound
from pysetl_hub_server.i18n.messages import _


async def provenance_of(session: AsyncSession, name: str, version: str, filename: str) -> bytes:
    if len(version) > MAX_VERSION or len(filename) > MAX_FILENAME:
        raise NotFound(
            "file.missing", _("{name!r} has no such version or file on this hub", name=name)
        )
    row = await session.execute(
        select(File.provenance)
        .join(Release, Release.id == File.release_id)
        .join(Component, Component.id == Release.component_id)
        .where(
            Component.name == canonicalize_name(name),
            Release.canonical_version == canonicalize_version(version),
            File.filename == filename,
            Component.quarantined_at.is_(None),  # a quarantined file is not served
        )
    )
    found = row.first()
    if found is None:
        raise NotFound(
            "file.missing",
            _(
                "{name!r} {version} has no file {filename!r} on this hub",
                name=name,
                version=version,
                filename=filename,
            ),
        )
    if found[0] is None:
        raise NotFound(
            "provenance.missing",
            _(
                "{filename} was uploaded without attestations, so it has no provenance",
                filename=filename,
            ),
        )
    return str(found[0]).encode()
