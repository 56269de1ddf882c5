"""What the public sees of an audit event: the `Change` a public index would show.

Only fields named here leave: never the IP address or user agent, never who did it (a
username, a publisher or the admin CLI), never token or invitation ids, never free text an
admin wrote for other admins (a quarantine reason). Yank reasons are public (PEP 592 serves
them), so they stay. Anything else an event's detail holds is dropped, so a new detail field
is private until someone adds it here on purpose.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_schemas.feed import PUBLIC_ACTIONS, Change, FeedFile
from pysetl_hub_server.db import models
from pysetl_hub_server.simple.services import file_url, provenance_url

PUBLIC = frozenset(PUBLIC_ACTIONS)


def _text(detail: dict[str, Any], key: str) -> str | None:
    value = detail.get(key)
    return value if isinstance(value, str) and value else None


def _component(event: models.AuditEvent) -> str | None:
    kind, _, name = event.target.partition(":")
    return name if kind == "component" and name else None


Published = dict[str, tuple[FeedFile, str]]  # filename -> (the file, its release's version)


async def _files(session: AsyncSession, filenames: set[str]) -> Published:
    """The published files among `filenames`, as a mirror needs them (one query per page)."""
    if not filenames:
        return {}
    rows = await session.execute(
        select(
            models.File.filename,
            models.File.sha256,
            models.File.size,
            models.File.packagetype,
            models.File.requires_python,
            models.File.provenance.is_not(None),
            models.Release.version,
            models.Component.name,
        )
        .join(models.Release, models.Release.id == models.File.release_id)
        .join(models.Component, models.Component.id == models.Release.component_id)
        .where(models.File.filename.in_(filenames))
    )
    found: Published = {}
    for filename, sha, size, kind, requires, signed, version, name in rows:
        found[filename] = (
            FeedFile(
                filename=filename,
                sha256=sha,
                url=file_url(sha, filename),
                size=size,
                packagetype=kind,
                requires_python=requires,
                provenance_url=provenance_url(name, version, filename) if signed else None,
            ),
            version,
        )
    return found


async def project(session: AsyncSession, events: Sequence[models.AuditEvent]) -> list[Change]:
    """The public changes of `events` (in their order); private actions are skipped."""
    events = [e for e in events if e.action in PUBLIC]
    uploads = {
        name
        for e in events
        if e.action == "file.upload" and (name := _text(e.detail or {}, "filename"))
    }
    files = await _files(session, uploads)
    return [_change(e, files) for e in events]


def _change(event: models.AuditEvent, files: Published) -> Change:
    d: dict[str, Any] = event.detail or {}
    action = event.action
    change = Change(
        serial=event.id,
        created=event.created,
        action=action,
        component=_component(event),
        version=_text(d, "version"),
    )
    if action == "file.upload":
        filename = _text(d, "filename") or ""
        sha = _text(d, "sha256") or ""
        if filename in files:
            change.file, version = files[filename]
            change.version = change.version or version
        else:  # deleted since: what the event itself says (a later file.delete follows)
            change.file = FeedFile(filename=filename, sha256=sha, url=file_url(sha, filename))
    elif action == "file.delete":
        change.filenames = [f for f in [_text(d, "filename")] if f]
    elif action == "release.delete":
        change.filenames = [f for f in d.get("filenames") or [] if isinstance(f, str)]
    elif action == "release.yank":
        change.yanked_reason = _text(d, "reason")
    elif action.startswith("role."):
        change.username, change.role = _text(d, "username"), _text(d, "role")
    elif action.startswith("team.role."):
        change.organization, change.team = _text(d, "organization"), _text(d, "team")
        change.role = _text(d, "role")
    elif action == "component.transfer":
        change.organization = _text(d, "organization")
    elif action.startswith("publisher."):
        change.publisher = _text(d, "publisher")
    elif action.startswith("advisory."):
        change.advisory = _text(d, "id") or _text(d, "advisory")
        change.component = change.component or _text(d, "component")
    elif action == "name.prohibit":
        change.name = event.target.partition(":")[2] or None
    return change
