"""From the catalog tables to search `Document`s, and the outbox that keeps an index in step.

`enqueue` is called inside the transaction that changes a component (publish, yank, delete),
so the outbox row commits or rolls back with the change itself: an index update can be late
after a crash, but never lost.
"""

from __future__ import annotations

from packaging.utils import canonicalize_name
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from pysetl_hub_server.components.latest import fully_attested, latest_release
from pysetl_hub_server.db import models
from pysetl_hub_server.downloads import recent
from pysetl_hub_server.search.engine import Document

README_LIMIT = 20_000


def enqueue(session: AsyncSession, component: str) -> None:
    session.add(models.SearchOutbox(component=canonicalize_name(component)))


def document(component: models.Component, downloads: int = 0, quality: int = 0) -> Document | None:
    """The document of a component with releases (None when it has none)."""
    releases = list(component.releases)
    latest = latest_release(releases)
    if latest is None:
        return None
    return Document(
        id=component.id,
        name=component.name,
        display_name=component.display_name,
        version=latest.version,
        summary=latest.summary or "",
        entry_points=[e["name"] for e in latest.entry_points or []],
        keywords=[k.lower() for k in latest.keywords or []],
        readme=(latest.description or "")[:README_LIMIT],
        license=latest.license[:255] if latest.license else None,
        kinds=sorted(latest.kinds or []),
        verified=fully_attested(latest),
        yanked=all(r.yanked for r in releases),
        updated=max(r.created for r in releases),
        downloads=downloads,
        requires_python=latest.requires_python,
        pysetl=latest.pysetl_specifier,
        pyspark=latest.pyspark_specifier,
        quality=quality,
    )


async def load(session: AsyncSession, names: list[str] | None = None) -> list[Document]:
    """Documents for `names` (all components when None)."""
    # A quarantined component has no document: the indexer then removes it from the engine.
    stmt = (
        select(models.Component)
        .where(models.Component.quarantined_at.is_(None))
        .options(selectinload(models.Component.releases))
    )
    if names is not None:
        stmt = stmt.where(models.Component.name.in_(names))
    counts = await recent(session, names)
    scores = await _scores(session, names)
    docs = []
    for component in await session.scalars(stmt):
        doc = document(component, counts.get(component.id, 0), scores.get(component.id, 0))
        if doc is not None:
            docs.append(doc)
    return docs


async def _scores(session: AsyncSession, names: list[str] | None) -> dict[int, int]:
    """Stored quality scores by component id (the indexer refreshes them just before)."""
    stmt = select(models.QualityScore.component_id, models.QualityScore.total)
    if names is not None:
        stmt = stmt.join(
            models.Component, models.Component.id == models.QualityScore.component_id
        ).where(models.Component.name.in_(names))
    return {cid: int(total) for cid, total in await session.execute(stmt)}
