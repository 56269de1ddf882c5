"""The checks a new file triggers, run right after its publish commits (a failing check is
logged, never the publish's error): a changed publisher identity, a new owner publishing
within a day of joining, a new name close to a popular one, and a new `.pth` file."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from pysetl_hub_schemas import Publisher
from pysetl_hub_server.accounts.permissions import Identity
from pysetl_hub_server.anomalies.flags import raise_flag
from pysetl_hub_server.anomalies.stats import damerau_levenshtein
from pysetl_hub_server.db import models
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.quality.services import ensure_facts
from pysetl_hub_server.settings import FlagThresholds

log = logging.getLogger(__name__)


async def after_publish(hub: Hub, who: Identity, filename: str) -> None:
    """Read the new file's facts from its blob and run the publish-time checks."""
    try:
        async with hub.sessions() as session:
            await check_upload(session, hub, who, filename, datetime.now(UTC))
            await session.commit()
    except Exception:
        log.warning("anomaly checks of %s failed", filename, exc_info=True)


async def check_upload(
    session: AsyncSession, hub: Hub, who: Identity, filename: str, now: datetime
) -> None:
    file = await session.scalar(select(models.File).where(models.File.filename == filename))
    if file is None:
        return
    release = await session.scalar(
        select(models.Release)
        .where(models.Release.id == file.release_id)
        .options(selectinload(models.Release.component))
    )
    assert release is not None
    component = release.component
    facts = await ensure_facts(session, hub.blobs, release)
    limits = hub.settings.flags
    await publisher_changed(session, component, release, file)
    if who.publisher is None:
        await new_owner_publish(session, limits, component, release, who, now)
    await name_confusion(session, limits, component)
    if file.packagetype == "bdist_wheel":
        await new_pth(session, hub, component, release, file, facts[file.id].pth)


async def _identities(session: AsyncSession, component: models.Component) -> dict[str, str | None]:
    """The publisher identity of each file ever uploaded to the component: the trusted
    publisher that signed it, else the trusted publisher whose minted token uploaded it, else
    None (a person's own token)."""
    actors = {
        str((e.detail or {}).get("filename")): e.actor
        for e in await session.scalars(
            select(models.AuditEvent).where(
                models.AuditEvent.action == "file.upload",
                models.AuditEvent.component_id == component.id,
            )
        )
    }
    signers: dict[str, dict[str, Any] | None] = dict(
        (
            await session.execute(
                select(models.File.filename, models.File.signer)
                .join(models.Release)
                .where(models.Release.component_id == component.id)
            )
        ).all()
    )
    found: dict[str, str | None] = {}
    for filename, actor in actors.items():
        signer = signers.get(filename)
        if signer:
            found[filename] = _signer_identity(signer)
        elif actor.startswith("publisher:"):
            found[filename] = actor
        else:
            found[filename] = None
    return found


def _signer_identity(signer: dict[str, Any]) -> str:
    """A signer as the same text a minted token's actor names its publisher by, so a release
    attested by the publisher that also uploaded it is one identity, not two."""
    try:
        return f"publisher:{msgspec.convert(signer, Publisher)}"
    except msgspec.ValidationError:
        return "signer " + json.dumps(signer, sort_keys=True)


async def publisher_changed(
    session: AsyncSession, component: models.Component, release: models.Release, file: models.File
) -> None:
    """Earlier releases came from trusted publishers; this file came from another identity."""
    identities = await _identities(session, component)
    mine = identities.pop(file.filename, None)
    ours = {f.filename for f in release.files}
    earlier = {v for k, v in identities.items() if k not in ours}
    if not any(earlier) or mine in earlier:
        return
    await raise_flag(
        session,
        component,
        "publisher_changed",
        release.version,
        {
            "version": release.version,
            "filename": file.filename,
            "publisher": mine or "a personal API token",
            "previous": sorted(e for e in earlier if e),
        },
    )


async def new_owner_publish(
    session: AsyncSession,
    limits: FlagThresholds,
    component: models.Component,
    release: models.Release,
    who: Identity,
    now: datetime,
) -> None:
    """The uploader joined the component (an accepted role invitation, `role.add`) less than
    `new_owner_hours` ago. Its creator never joined: the first owner is not flagged."""
    joined = await session.scalar(
        select(models.AuditEvent)
        .where(
            models.AuditEvent.action == "role.add",
            models.AuditEvent.component_id == component.id,
            models.AuditEvent.user_id == who.user_id,
        )
        .order_by(models.AuditEvent.id.desc())
        .limit(1)
    )
    if joined is None:
        return
    since = now - joined.created
    if since > timedelta(hours=limits.new_owner_hours):
        return
    await raise_flag(
        session,
        component,
        "new_owner_publish",
        f"{who.username}:{release.version}",
        {
            "username": who.username,
            "role": (joined.detail or {}).get("role"),
            "joined": joined.created.isoformat(),
            "hours_since_joining": round(since.total_seconds() / 3600, 2),
            "version": release.version,
            "window_hours": limits.new_owner_hours,
        },
    )


async def name_confusion(
    session: AsyncSession, limits: FlagThresholds, component: models.Component
) -> None:
    """On a component's first file: its name is the ultranormalized twin of, or a few edits
    from, a popular component's (all-time downloads at least `popular_downloads`)."""
    files = await session.scalar(
        select(func.count(models.File.id))
        .join(models.Release)
        .where(models.Release.component_id == component.id)
    )
    if files != 1:
        return
    popular = (
        await session.execute(
            select(
                models.Component.name,
                models.Component.ultra_name,
                func.sum(models.DownloadCount.count),
            )
            .join(models.DownloadCount)
            .where(models.Component.id != component.id)
            .group_by(models.Component.id, models.Component.name, models.Component.ultra_name)
            .having(func.sum(models.DownloadCount.count) >= limits.popular_downloads)
        )
    ).all()
    allowed = 2 if len(component.name) >= limits.name_long else 1
    for name, ultra, downloads in popular:
        distance = damerau_levenshtein(component.name, name, cap=allowed)
        same_ultra = bool(ultra) and ultra == component.ultra_name
        if not same_ultra and distance > allowed:
            continue
        evidence: dict[str, Any] = {
            "similar_to": name,
            "their_downloads": int(downloads),
            "distance": distance,
            "rule": "ultranormalized" if same_ultra else f"edit distance <= {allowed}",
        }
        await raise_flag(session, component, "name_confusion", name, evidence)


async def new_pth(
    session: AsyncSession,
    hub: Hub,
    component: models.Component,
    release: models.Release,
    file: models.File,
    pth: list[str],
) -> None:
    """A wheel ships a `.pth` file (code run at every interpreter start) that the latest
    earlier release with wheels did not."""
    if not pth:
        return
    earlier = await session.scalar(
        select(models.Release)
        .join(models.File)
        .where(
            models.Release.component_id == component.id,
            models.Release.id != release.id,
            models.Release.created <= release.created,
            models.File.packagetype == "bdist_wheel",
        )
        .order_by(models.Release.created.desc(), models.Release.id.desc())
        .limit(1)
    )
    if earlier is None:
        return
    facts = await ensure_facts(session, hub.blobs, earlier)
    before = {
        p.rsplit("/", 1)[-1]
        for f in earlier.files
        if f.packagetype == "bdist_wheel"
        for p in facts[f.id].pth
    }
    added = sorted(p for p in pth if p.rsplit("/", 1)[-1] not in before)
    if not added:
        return
    await raise_flag(
        session,
        component,
        "install_time_code",
        file.filename,
        {
            "version": release.version,
            "filename": file.filename,
            "reason": "new .pth file",
            "pth": added,
            "previous_version": earlier.version,
        },
    )
