"""What the listing pages show: catalogue counts and lists of components, read from the search
documents (one row per visible component, its latest release) rather than the full catalog."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, UnaryExpression, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_server.db import models
from pysetl_hub_server.stats.services import trending


@dataclass(frozen=True, slots=True)
class Card:
    """One component in a list."""

    name: str
    display_name: str
    version: str | None
    summary: str
    verified: bool
    downloads: int
    updated: datetime


@dataclass(frozen=True, slots=True)
class Home:
    components: int
    releases: int
    files: int
    downloads: int
    newest: list[Card]
    popular: list[Card]
    updated: list[Card]
    trending: list[Card] = field(default_factory=list)  # rising over the last 7 days


def _card(doc: models.SearchDoc) -> Card:
    return Card(
        doc.name, doc.display_name, doc.version, doc.summary, doc.verified, doc.downloads,
        doc.updated,
    )  # fmt: skip


def _visible() -> ColumnElement[bool]:
    return models.Component.quarantined_at.is_(None)


async def _cards(session: AsyncSession, order: UnaryExpression[Any], limit: int) -> list[Card]:
    rows = await session.scalars(
        select(models.SearchDoc)
        .join(models.Component, models.Component.id == models.SearchDoc.component_id)
        .where(_visible(), models.SearchDoc.yanked.is_(False))
        .order_by(order, models.SearchDoc.name)
        .limit(limit)
    )
    return [_card(doc) for doc in rows]


async def home(session: AsyncSession, limit: int = 6) -> Home:
    visible = _visible()
    components = await session.scalar(select(func.count(models.Component.id)).where(visible))
    releases = await session.scalar(
        select(func.count(models.Release.id))
        .join(models.Component, models.Component.id == models.Release.component_id)
        .where(visible)
    )
    files = await session.scalar(
        select(func.count(models.File.id))
        .join(models.Release, models.Release.id == models.File.release_id)
        .join(models.Component, models.Component.id == models.Release.component_id)
        .where(visible)
    )
    downloads = await session.scalar(select(func.coalesce(func.sum(models.DownloadCount.count), 0)))
    newest = await session.scalars(
        select(models.Component.id)
        .where(visible)
        .order_by(models.Component.created.desc())
        .limit(limit)
    )
    ids = list(newest)
    docs = {
        d.component_id: d
        for d in await session.scalars(
            select(models.SearchDoc).where(models.SearchDoc.component_id.in_(ids))
        )
    }
    return Home(
        components=int(components or 0),
        releases=int(releases or 0),
        files=int(files or 0),
        downloads=int(downloads or 0),
        newest=[_card(docs[i]) for i in ids if i in docs],
        popular=await _cards(session, models.SearchDoc.downloads.desc(), limit),
        updated=await _cards(session, models.SearchDoc.updated.desc(), limit),
        trending=await _trending(session, limit),
    )


async def _trending(session: AsyncSession, limit: int) -> list[Card]:
    ids = [t.component_id for t in await trending(session, datetime.now(UTC).date(), limit)]
    docs = {
        d.component_id: d
        for d in await session.scalars(
            select(models.SearchDoc).where(models.SearchDoc.component_id.in_(ids))
        )
    }
    return [_card(docs[i]) for i in ids if i in docs]


async def cards_of(session: AsyncSession, component_ids: list[int]) -> list[Card]:
    if not component_ids:
        return []
    rows = await session.scalars(
        select(models.SearchDoc)
        .join(models.Component, models.Component.id == models.SearchDoc.component_id)
        .where(models.SearchDoc.component_id.in_(component_ids), _visible())
        .order_by(models.SearchDoc.name)
    )
    return [_card(doc) for doc in rows]


async def user_components(session: AsyncSession, user: models.User) -> list[Card]:
    """The components the user holds a direct role on (their public profile)."""
    ids = await session.scalars(
        select(models.Role.component_id).where(models.Role.user_id == user.id)
    )
    return await cards_of(session, list(set(ids)))


async def org_components(session: AsyncSession, org: models.Organization) -> list[Card]:
    ids = await session.scalars(
        select(models.Component.id).where(models.Component.org_id == org.id)
    )
    return await cards_of(session, list(ids))


@dataclass(frozen=True, slots=True)
class Downloads:
    total: int
    last_30_days: int


async def downloads(session: AsyncSession, component_id: int, today: date) -> Downloads:
    where = models.DownloadCount.component_id == component_id
    total = await session.scalar(
        select(func.coalesce(func.sum(models.DownloadCount.count), 0)).where(where)
    )
    recent = await session.scalar(
        select(func.coalesce(func.sum(models.DownloadCount.count), 0)).where(
            where, models.DownloadCount.day > today - timedelta(days=30)
        )
    )
    return Downloads(int(total or 0), int(recent or 0))
