"""Component read models for the JSON API, and yanking."""

from __future__ import annotations

import msgspec
from packaging.utils import canonicalize_name, canonicalize_version
from packaging.version import InvalidVersion, Version
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from pysetl_hub_schemas import (
    PYSETL,
    PYTHON,
    SPARK,
    Compatibility,
    Component,
    ComponentPage,
    ComponentSummary,
    EntryPoint,
    FileInfo,
    PlatformCheck,
    Publisher,
    Release,
)
from pysetl_hub_server.accounts.permissions import Identity, authorize
from pysetl_hub_server.accounts.services import owners_of
from pysetl_hub_server.audit.services import touch
from pysetl_hub_server.bounds import MAX_VERSION
from pysetl_hub_server.components.latest import fully_attested, latest_release, newest_first
from pysetl_hub_server.db import models
from pysetl_hub_server.errors import BadRequest, NotFound
from pysetl_hub_server.governance.lookup import org_name
from pysetl_hub_server.governance.quarantine import can_see
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.i18n.messages import _
from pysetl_hub_server.quality.services import Scorer
from pysetl_hub_server.simple.services import file_url, provenance_url
from pysetl_hub_server.text import describe, forbidden_character


def _matrix(stored: dict[str, bool]) -> list[PlatformCheck]:
    return [PlatformCheck(version=v, compatible=ok) for v, ok in stored.items()]


def release_view(component: models.Component, r: models.Release) -> Release:
    compat = r.compat or {}
    return Release(
        name=component.display_name,
        version=r.version,
        summary=r.summary,
        description=r.description,
        description_content_type=r.description_content_type,
        license=r.license,
        keywords=list(r.keywords or []),
        project_urls=dict(r.project_urls or {}),
        author=r.author,
        kinds=list(r.kinds or []),  # type: ignore[arg-type]
        requires_dist=list(r.requires_dist or []),
        entry_points=[EntryPoint(**e) for e in r.entry_points or []],  # type: ignore[arg-type]
        compatibility=Compatibility(
            requires_python=r.requires_python,
            pysetl=r.pysetl_specifier,
            pyspark=r.pyspark_specifier,
            python_matrix=_matrix(compat.get(PYTHON, {})),
            pysetl_matrix=_matrix(compat.get(PYSETL, {})),
            spark_matrix=_matrix(compat.get(SPARK, {})),
        ),
        yanked=r.yanked,
        yanked_reason=r.yanked_reason if r.yanked else None,
        created=r.created,
        files=[
            FileInfo(
                filename=f.filename,
                url=file_url(f.sha256, f.filename),
                packagetype=f.packagetype,  # type: ignore[arg-type]
                size=f.size,
                hashes={"sha256": f.sha256, "blake2b_256": f.blake2b_256},
                upload_time=f.upload_time,
                requires_python=f.requires_python,
                has_metadata=f.metadata_sha256 is not None,
                yanked=r.yanked,
                provenance=provenance_url(component.name, r.version, f.filename)
                if f.signer
                else None,
                signer=msgspec.convert(f.signer, Publisher) if f.signer else None,
            )
            for f in sorted(r.files, key=lambda f: f.filename)
        ],
    )


async def _load(
    session: AsyncSession, name: str, viewer: Identity | None = None
) -> models.Component:
    """The component with its releases; a quarantined one only for those who may see it."""
    component = await session.scalar(
        select(models.Component)
        .where(models.Component.name == canonicalize_name(name))
        .options(selectinload(models.Component.releases).selectinload(models.Release.files))
    )
    if component is None:
        raise NotFound("component.missing", _("no component named {name!r} on this hub", name=name))
    if not await can_see(session, viewer, component):
        raise NotFound("component.missing", _("no component named {name!r} on this hub", name=name))
    return component


async def list_components(session: AsyncSession, page: int, per_page: int) -> ComponentPage:
    if page < 1 or not 1 <= per_page <= 100:
        raise BadRequest("paging", _("page must be >= 1 and per_page between 1 and 100"))
    visible = models.Component.quarantined_at.is_(None)
    total = int(await session.scalar(select(func.count(models.Component.id)).where(visible)) or 0)
    rows = await session.scalars(
        select(models.Component)
        .where(visible)
        .order_by(models.Component.name)
        .offset((page - 1) * per_page)
        .limit(per_page)
        .options(selectinload(models.Component.releases))
    )
    items = []
    for c in rows:
        latest = latest_release(list(c.releases))
        items.append(
            ComponentSummary(
                name=c.display_name,
                latest_version=latest.version if latest else None,
                summary=latest.summary if latest else None,
                kinds=list(latest.kinds) if latest else [],  # type: ignore[arg-type]
                updated=max((r.created for r in c.releases), default=c.created),
            )
        )
    return ComponentPage(items=items, page=page, per_page=per_page, total=total)


async def get_component(
    session: AsyncSession, name: str, viewer: Identity | None = None, scorer: Scorer | None = None
) -> Component:
    """`scorer` adds the quality score (quality/services.py `Scorer`)."""
    c = await _load(session, name, viewer)
    releases = newest_first(list(c.releases))
    latest = latest_release(releases)
    return Component(
        name=c.name,
        display_name=c.display_name,
        latest_version=latest.version if latest else None,
        owners=await owners_of(session, c.id),
        verified=fully_attested(latest),
        require_attestations=c.require_attestations,
        versions=[r.version for r in releases],
        latest=release_view(c, latest) if latest else None,
        releases=[release_view(c, r) for r in releases],
        organization=await org_name(session, c.org_id),
        quarantined=c.quarantined_at is not None,
        quarantine_reason=c.quarantine_reason,
        quality=await scorer(session, c) if scorer is not None and latest is not None else None,
    )


def find_release(c: models.Component, version: str) -> models.Release:
    if len(version) > MAX_VERSION:
        raise NotFound(
            "release.missing",
            _("no version is longer than {MAX_VERSION} characters", MAX_VERSION=MAX_VERSION),
        )
    try:
        canonical = canonicalize_version(Version(version))
    except InvalidVersion as exc:
        raise NotFound(
            "release.missing", _("{version!r} is not a PEP 440 version", version=version)
        ) from exc
    for r in c.releases:
        if r.canonical_version == canonical:
            return r
    raise NotFound(
        "release.missing",
        _("{component!r} has no release {version!r}", component=c.display_name, version=version),
        versions=[r.version for r in newest_first(list(c.releases))],
    )


async def get_release(
    session: AsyncSession, name: str, version: str, viewer: Identity | None = None
) -> Release:
    return (await get_release_of(session, name, version, viewer))[0]


async def get_release_of(
    session: AsyncSession, name: str, version: str, viewer: Identity | None = None
) -> tuple[Release, bool]:
    """A release and whether its component is quarantined (its view depends on the viewer)."""
    c = await _load(session, name, viewer)
    return release_view(c, find_release(c, version)), c.quarantined_at is not None


async def set_yanked(
    hub: Hub, who: Identity, name: str, version: str, *, yanked: bool, reason: str = ""
) -> Release:
    """Yank (PEP 592: hidden from resolution, installable by exact pin) or unyank."""
    bad = forbidden_character(reason, multiline=False)
    if bad is not None:
        raise BadRequest(
            "yank.reason",
            _(
                "the yank reason holds the character {bad}: installers show the reason to users"
                " on one line; write it as plain text",
                bad=describe(bad),
            ),
        )
    async with hub.sessions() as session:
        c = await _load(session, name)
        await authorize(session, who, c, "yank" if yanked else "unyank")
        r = find_release(c, version)
        r.yanked = yanked
        r.yanked_reason = (reason or None) if yanked else None
        await touch(
            session,
            c,
            "release.yank" if yanked else "release.unyank",
            actor=who.actor,
            detail={"version": r.version, "reason": reason},
        )
        await session.commit()
        view = release_view(c, r)
    hub.changed(c.name)
    return view
