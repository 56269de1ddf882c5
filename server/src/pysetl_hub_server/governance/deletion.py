"""Deleting a file or a whole release (owners).

The rows go; the filename stays in `filename_registry` forever, so it can never be published
again (a re-upload gets 409 `file.deleted`). The index moves forward at once (`touch` and
`hub.changed`), and a blob goes when no remaining file references it. A release goes with its
last file; the component stays, owned, even with no release left.

Nothing fails after the commit: the digests are recorded with the deletion
(`storage.pending`), so a store that is down then leaves the blobs to the periodic sweep and
the answer is still the deletion's success (a 503 saying "changed nothing" would be false).
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from pysetl_hub_schemas import Deleted
from pysetl_hub_server.accounts.permissions import Identity, authorize
from pysetl_hub_server.audit.services import touch
from pysetl_hub_server.components.services import find_release
from pysetl_hub_server.db import models
from pysetl_hub_server.errors import NotFound
from pysetl_hub_server.governance import lookup
from pysetl_hub_server.governance.quarantine import refuse_if_quarantined
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.i18n.messages import _
from pysetl_hub_server.storage.pending import drop_pending, record

log = logging.getLogger(__name__)


async def _release(
    session: AsyncSession, who: Identity, name: str, version: str
) -> tuple[models.Component, models.Release]:
    c = await session.scalar(
        select(models.Component)
        .where(models.Component.id == (await lookup.component(session, name)).id)
        .options(selectinload(models.Component.releases).selectinload(models.Release.files))
    )
    assert c is not None
    # Permission before existence: who may not delete learns nothing of what is stored.
    await authorize(session, who, c, "delete")
    await refuse_if_quarantined(
        session, c, _("deleting its files is refused (they are kept for review)")
    )
    return c, find_release(c, version)


async def delete_file(hub: Hub, who: Identity, name: str, version: str, filename: str) -> Deleted:
    async with hub.sessions() as session:
        c, release = await _release(session, who, name, version)
        file = next((f for f in release.files if f.filename == filename), None)
        if file is None:
            raise NotFound(
                "file.missing",
                _(
                    "{component!r} {version} has no file {filename!r}",
                    component=c.display_name,
                    version=release.version,
                    filename=filename,
                ),
                files=sorted(f.filename for f in release.files),
            )
        digests = _digests([file])
        release.files.remove(file)
        await session.delete(file)
        await touch(
            session,
            c,
            "file.delete",
            actor=who.actor,
            detail={"version": release.version, "filename": filename, "sha256": file.sha256},
        )
        emptied = not release.files
        if emptied:  # a release without files is no release: it goes with its last file
            await session.delete(release)
            await touch(
                session,
                c,
                "release.delete",
                actor=who.actor,
                detail={"version": release.version, "filenames": []},
            )
        await record(session, digests)
        await session.commit()
    await _after(hub, c.name, digests)
    return Deleted(
        component=c.name, version=release.version, filenames=[filename], release_deleted=emptied
    )


async def delete_release(hub: Hub, who: Identity, name: str, version: str) -> Deleted:
    async with hub.sessions() as session:
        c, release = await _release(session, who, name, version)
        filenames = sorted(f.filename for f in release.files)
        digests = _digests(release.files)
        await session.delete(release)
        await touch(
            session,
            c,
            "release.delete",
            actor=who.actor,
            detail={"version": release.version, "filenames": filenames},
        )
        await record(session, digests)
        await session.commit()
    await _after(hub, c.name, digests)
    return Deleted(
        component=c.name, version=release.version, filenames=filenames, release_deleted=True
    )


def _digests(files: list[models.File]) -> set[str]:
    found = {f.sha256 for f in files}
    found.update(f.metadata_sha256 for f in files if f.metadata_sha256)
    return found


async def _after(hub: Hub, name: str, digests: set[str]) -> None:
    """Drop what is derived from the deleted rows, then each recorded blob no file uses. Runs
    after the commit, so it never fails the request: what it cannot do now, the sweep does."""
    hub.changed(name)
    try:
        await drop_pending(hub.sessions, hub.blobs, only=digests)
    except Exception:
        log.warning("blobs of deleted files of %s are left to the sweep", name, exc_info=True)
