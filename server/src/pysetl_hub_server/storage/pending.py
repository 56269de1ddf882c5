"""Blobs to delete once no file uses them, kept in the database until the store confirms.

A deletion records its digests in `pending_blob_deletes` in the same transaction that deletes
the rows, so a store that is down after the commit loses nothing: the answer is still the
deletion's success, and `drop_pending` (right after the commit for the deletion's own
digests, then every `SWEEP_INTERVAL` seconds on each replica) deletes each blob no file
references, then its row. An object store has no directory sweep of its own, so without this
row such a blob would stay forever. A publish that failed records its blobs too.

The sweep leaves rows younger than `SETTLE` alone: the retry of a publish that met the outage
writes the same blob again and commits within seconds, so by then its file references it
(checking and deleting are not one atomic step, so a sweep racing that commit could otherwise
delete the blob under it).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pysetl_hub_server.db.models import File, PendingBlobDelete, utcnow
from pysetl_hub_server.storage.blobs import BlobStore, blob_key

SWEEP_INTERVAL = 60.0
SETTLE = timedelta(minutes=10)

log = logging.getLogger(__name__)


async def record(session: AsyncSession, digests: Iterable[str]) -> None:
    """Add the digests (in the caller's transaction); one already recorded stays as it is."""
    wanted = set(digests)
    if not wanted:
        return
    known = set(
        await session.scalars(
            select(PendingBlobDelete.sha256).where(PendingBlobDelete.sha256.in_(wanted))
        )
    )
    session.add_all(PendingBlobDelete(sha256=d) for d in sorted(wanted - known))


async def record_now(sessions: async_sessionmaker[AsyncSession], digests: Iterable[str]) -> None:
    """`record` in a transaction of its own."""
    async with sessions() as session:
        await record(session, digests)
        await session.commit()


async def referenced(session: AsyncSession, digests: set[str]) -> set[str]:
    """The digests a file row uses, as its bytes or its metadata."""
    used = set(await session.scalars(select(File.sha256).where(File.sha256.in_(digests))))
    used.update(
        d
        for d in await session.scalars(
            select(File.metadata_sha256).where(File.metadata_sha256.in_(digests))
        )
        if d
    )
    return used


async def drop_pending(
    sessions: async_sessionmaker[AsyncSession],
    blobs: BlobStore,
    *,
    only: set[str] | None = None,
    settle: timedelta = SETTLE,
) -> int:
    """Delete each recorded blob (`only` these, or every one older than `settle`) no file
    references (checked again now: the same bytes may have been published since), then its
    row; return how many rows went. The first blob the store fails to delete ends the pass with
    the error, the rest keep their rows."""
    query = select(PendingBlobDelete.sha256)
    if only is not None:
        query = query.where(PendingBlobDelete.sha256.in_(only))
    else:
        query = query.where(PendingBlobDelete.recorded <= utcnow() - settle)
    async with sessions() as session:
        pending = set(await session.scalars(query))
        if not pending:
            return 0
        used = await referenced(session, pending)
    done: set[str] = set()
    try:
        for digest in sorted(pending):
            if digest not in used:
                await blobs.delete(blob_key(digest))
            done.add(digest)
    finally:
        if done:
            async with sessions() as session:
                await session.execute(
                    delete(PendingBlobDelete).where(PendingBlobDelete.sha256.in_(done))
                )
                await session.commit()
            log.info("deleted %d unreferenced blob(s)", len(done - used))
    return len(done)
