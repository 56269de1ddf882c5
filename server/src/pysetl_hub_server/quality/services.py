"""Gathering the score's inputs from the database, reading archive facts from stored blobs,
and keeping the stored score (search sorts and filters by it) in step with every change.

`refresh` runs on the search indexer's path (every change queues an outbox row in its own
transaction, so no change is missed); the JSON API computes the same score on read.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
from packaging.version import InvalidVersion, Version
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from pysetl_hub_schemas import Quality, QualitySignal
from pysetl_hub_server.components.compat import admits
from pysetl_hub_server.components.latest import fully_attested, latest_release
from pysetl_hub_server.db import models
from pysetl_hub_server.hub import AdvisoryCount, Hub
from pysetl_hub_server.quality.facts import Facts, read_facts
from pysetl_hub_server.quality.score import Inputs, Score, score
from pysetl_hub_server.settings import Platforms
from pysetl_hub_server.storage.blobs import BlobNotFound, BlobStore, blob_key

log = logging.getLogger(__name__)


def entry_point_map(release: models.Release) -> dict[str, str]:
    return {e["name"]: e["value"] for e in release.entry_points or []}


async def ensure_facts(
    session: AsyncSession, blobs: BlobStore, release: models.Release
) -> dict[int, models.FileFacts]:
    """The facts of each file of `release`, reading the blobs of files not read before
    (added to the session; the caller commits)."""
    files = list(release.files)
    rows = {
        f.file_id: f
        for f in await session.scalars(
            select(models.FileFacts).where(models.FileFacts.file_id.in_([f.id for f in files]))
        )
    }
    missing = [f for f in files if f.id not in rows]
    for file in missing:
        try:
            data = await blobs.get_bytes(blob_key(file.sha256))
        except BlobNotFound:
            facts = Facts(readable=False)
        else:
            facts = await asyncio.to_thread(
                read_facts, data, file.packagetype, entry_point_map(release)
            )
        # Another replica (or the indexer beside the publish) may read the same file at once:
        # the first row stands, the same facts either way.
        stmt = _insert(session)(models.FileFacts).values(
            file_id=file.id,
            has_tests=facts.has_tests,
            pth=facts.pth,
            documented=facts.documented,
            readable=facts.readable,
            read_at=datetime.now(UTC),
        )
        await session.execute(stmt.on_conflict_do_nothing(index_elements=["file_id"]))
    if missing:
        rows |= {
            f.file_id: f
            for f in await session.scalars(
                select(models.FileFacts).where(
                    models.FileFacts.file_id.in_([f.id for f in missing])
                )
            )
        }
    return rows


def _insert(session: AsyncSession) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def _newest(versions: Sequence[str]) -> str | None:
    try:
        return str(max(versions, key=Version)) if versions else None
    except InvalidVersion:
        return versions[-1]


async def inputs_for(
    session: AsyncSession,
    component: models.Component,
    platforms: Platforms,
    open_advisories: int,
    now: datetime | None = None,
) -> Inputs:
    """The score's inputs (releases and their files loaded on `component`)."""
    now = now or datetime.now(UTC)
    releases = list(component.releases)
    latest = latest_release(releases)
    publisher = await session.scalar(
        select(models.TrustedPublisher.id)
        .where(models.TrustedPublisher.component_id == component.id)
        .limit(1)
    )
    pysetl_latest = _newest(platforms.pysetl)
    if latest is None:
        return Inputs(
            name=component.name,
            now=now,
            trusted_publisher=publisher is not None,
            pysetl_latest=pysetl_latest,
            open_advisories=open_advisories,
        )
    ids = [f.id for f in latest.files]
    facts = list(
        await session.scalars(select(models.FileFacts).where(models.FileFacts.file_id.in_(ids)))
    )
    by_file = {f.file_id: f for f in facts}
    sdists = [f for f in latest.files if f.packagetype == "sdist"]
    documented = dict.fromkeys(entry_point_map(latest), False)
    for row in facts:
        for ep, ok in (row.documented or {}).items():
            if ep in documented:
                documented[ep] = documented[ep] or bool(ok)
    return Inputs(
        name=component.name,
        now=now,
        attested=fully_attested(latest),
        trusted_publisher=publisher is not None,
        readme=latest.description,
        license=latest.license,
        has_sdist=bool(sdists),
        sdist_tests=any(by_file[f.id].has_tests for f in sdists if f.id in by_file),
        pysetl_latest=pysetl_latest,
        admits_pysetl_latest=pysetl_latest is not None
        and admits(latest.pysetl_specifier, pysetl_latest),
        admits_supported_python=any(admits(latest.requires_python, v) for v in platforms.python),
        latest_release_at=max(r.created for r in releases),
        releases=len(releases),
        yanked=sum(r.yanked for r in releases),
        open_advisories=open_advisories,
        documented=documented,
    )


def view(result: Score) -> Quality:
    return Quality(
        total=result.total,
        signals=[
            QualitySignal(
                key=s.key,
                weight=s.weight,
                value=s.value,
                points=round(s.points, 2),
                explanation=s.explanation,
            )
            for s in result.signals
        ],
    )


@dataclass(frozen=True, slots=True)
class Scorer:
    """The score as of now, for the JSON API (releases and files loaded on the component)."""

    platforms: Platforms
    advisories: AdvisoryCount

    @classmethod
    def of(cls, hub: Hub) -> Scorer:
        return cls(hub.settings.platforms, hub.advisory_count)

    async def __call__(self, session: AsyncSession, component: models.Component) -> Quality:
        count = await self.advisories(session, component.id)
        return view(score(await inputs_for(session, component, self.platforms, count)))


async def refresh(
    session: AsyncSession,
    blobs: BlobStore,
    platforms: Platforms,
    advisories: AdvisoryCount,
    names: list[str] | None,
) -> int:
    """Recompute and store the score of `names` (every component when None); reads the archive
    facts not read yet. The caller commits. Returns how many scores were written."""
    stmt = select(models.Component).options(
        selectinload(models.Component.releases).selectinload(models.Release.files)
    )
    if names is not None:
        stmt = stmt.where(models.Component.name.in_(names))
    written = 0
    for component in list(await session.scalars(stmt)):
        latest = latest_release(list(component.releases))
        if latest is not None:
            await ensure_facts(session, blobs, latest)
        result = score(
            await inputs_for(session, component, platforms, await advisories(session, component.id))
        )
        values = {
            "total": result.total,
            "signals": msgspec.to_builtins(view(result).signals),
            "serial": component.last_serial,
            "computed": datetime.now(UTC),
        }
        stmt = _insert(session)(models.QualityScore).values(component_id=component.id, **values)
        await session.execute(
            stmt.on_conflict_do_update(index_elements=["component_id"], set_=values)
        )
        written += 1
    return written
