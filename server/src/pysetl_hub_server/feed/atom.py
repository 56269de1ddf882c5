"""Atom feeds (RFC 4287): new components, each component's releases, and advisories.

Built from typed entries with `xml.etree` (which escapes every text and attribute), so a
summary or a name can never break out of its element. Every feed and entry has an id, a
title, an updated time and `alternate` links; every feed a `self` link and an author.
Quarantined components are left out, as from every public listing.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_server.db import models

ATOM = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml; charset=utf-8"
HUB = "PySetl Hub"
ENTRIES = 50
# Characters XML 1.0 cannot carry at all, escaped or not: `xml.etree` writes them as they
# are, and one control character in a summary makes the whole feed unreadable.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    title: str
    updated: datetime
    link: str  # the alternate: the page a reader opens
    summary: str | None = None
    author: str | None = None


@dataclass(frozen=True, slots=True)
class Feed:
    id: str
    title: str
    self_link: str
    link: str
    entries: list[Entry] = field(default_factory=list)
    subtitle: str | None = None


def _stamp(when: datetime) -> str:
    moment = when if when.tzinfo else when.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    node = ET.SubElement(parent, f"{{{ATOM}}}{tag}")
    node.text = _NOT_XML.sub("\ufffd", text)
    return node


def _link(parent: ET.Element, href: str, rel: str, kind: str | None = None) -> None:
    attrs = {"href": href, "rel": rel}
    if kind:
        attrs["type"] = kind
    ET.SubElement(parent, f"{{{ATOM}}}link", attrs)


def render(feed: Feed) -> bytes:
    ET.register_namespace("", ATOM)
    root = ET.Element(f"{{{ATOM}}}feed")
    _text(root, "id", feed.id)
    _text(root, "title", feed.title)
    if feed.subtitle:
        _text(root, "subtitle", feed.subtitle)
    newest = max((e.updated for e in feed.entries), default=datetime.now(UTC))
    _text(root, "updated", _stamp(newest))
    author = ET.SubElement(root, f"{{{ATOM}}}author")
    _text(author, "name", HUB)
    _link(root, feed.self_link, "self", "application/atom+xml")
    _link(root, feed.link, "alternate", "text/html")
    _text(root, "generator", HUB)
    for e in feed.entries:
        node = ET.SubElement(root, f"{{{ATOM}}}entry")
        _text(node, "id", e.id)
        _text(node, "title", e.title)
        _text(node, "updated", _stamp(e.updated))
        if e.author:
            _text(ET.SubElement(node, f"{{{ATOM}}}author"), "name", e.author)
        _link(node, e.link, "alternate", "text/html")
        if e.summary:
            _text(node, "summary", e.summary)
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body


async def components_feed(session: AsyncSession, base: str) -> Feed:
    """The newest components, newest first; each entry summarised by its latest release."""
    rows = await session.execute(
        select(models.Component)
        .where(models.Component.quarantined_at.is_(None))
        .order_by(models.Component.created.desc(), models.Component.id.desc())
        .limit(ENTRIES)
    )
    components = list(rows.scalars())
    summaries = await _latest_summaries(session, [c.id for c in components])
    return Feed(
        id=f"{base}/feeds/components.atom",
        title=f"{HUB}: new components",
        self_link=f"{base}/feeds/components.atom",
        link=f"{base}/",
        entries=[
            Entry(
                id=f"{base}/components/{c.name}",
                title=c.display_name,
                updated=c.created,
                link=f"{base}/components/{c.name}",
                summary=summaries.get(c.id),
            )
            for c in components
        ],
    )


async def _latest_summaries(session: AsyncSession, ids: list[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    if not ids:
        return found
    rows = await session.execute(
        select(models.Release.component_id, models.Release.summary)
        .where(models.Release.component_id.in_(ids))
        .order_by(models.Release.created)
    )
    for component_id, summary in rows:
        if summary:
            found[component_id] = summary  # the newest release's wins
    return found


async def releases_feed(session: AsyncSession, base: str, component: models.Component) -> Feed:
    rows = await session.scalars(
        select(models.Release)
        .where(models.Release.component_id == component.id)
        .order_by(models.Release.created.desc(), models.Release.id.desc())
        .limit(ENTRIES)
    )
    page = f"{base}/components/{component.name}"
    entries = [
        Entry(
            id=f"{page}#{r.canonical_version}",
            title=f"{component.display_name} {r.version}" + (" (yanked)" if r.yanked else ""),
            updated=r.created,
            link=page,
            summary=r.summary,
            author=r.author,
        )
        for r in rows
    ]
    return Feed(
        id=f"{base}/feeds/components/{component.name}/releases.atom",
        title=f"{component.display_name}: releases",
        self_link=f"{base}/feeds/components/{component.name}/releases.atom",
        link=page,
        entries=entries,
    )


async def advisory_entries(session: AsyncSession, base: str) -> list[Entry]:
    """Advisories, the most recently changed first (a withdrawal moves one up, marked so that
    a reader does not take it for a new threat). Those of quarantined components are left out
    as everywhere public."""
    rows = await session.execute(
        select(models.Advisory, models.Component.display_name)
        .join(models.Component, models.Component.id == models.Advisory.component_id)
        .where(models.Component.quarantined_at.is_(None))
        .order_by(models.Advisory.modified.desc(), models.Advisory.id.desc())
        .limit(ENTRIES)
    )
    return [
        Entry(
            id=f"{base}/api/v1/advisories/{a.osv_id}",
            title=f"{a.osv_id}: {component} — {a.summary}"
            + (" (withdrawn)" if a.withdrawn else ""),
            updated=a.modified,
            link=f"{base}/api/v1/advisories/{a.osv_id}",
            summary=a.details or a.summary,
        )
        for a, component in rows
    ]


async def advisories_feed(session: AsyncSession, base: str) -> Feed:
    return Feed(
        id=f"{base}/feeds/advisories.atom",
        title=f"{HUB}: security advisories",
        self_link=f"{base}/feeds/advisories.atom",
        link=f"{base}/",
        entries=await advisory_entries(session, base),
    )
