"""Publishing, withdrawing and reading advisories. Each write is one transaction with its
audit event (`advisory.publish`, `advisory.withdraw`), which moves the component's serial so
every cached view of it (index pages, JSON documents) is rebuilt."""

from __future__ import annotations

from datetime import datetime

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_schemas.osv import AdvisoryCreate, AdvisoryPage, Osv
from pysetl_hub_server.accounts.permissions import Identity, authorize, require_admin
from pysetl_hub_server.advisories import fields, ranges, render
from pysetl_hub_server.audit.services import touch
from pysetl_hub_server.db import models
from pysetl_hub_server.db.models.base import utcnow
from pysetl_hub_server.errors import BadRequest, Conflict, NotFound
from pysetl_hub_server.governance.quarantine import can_see
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.i18n.messages import _

_ATTEMPTS = 3  # a concurrent publish may take the same next PSHUB id


async def _component(
    session: AsyncSession, name: str, viewer: Identity | None = None
) -> models.Component:
    c = await session.scalar(
        select(models.Component).where(models.Component.name == canonicalize_name(name))
    )
    if c is None or not await can_see(session, viewer, c):
        raise NotFound("component.missing", _("no component named {name!r} on this hub", name=name))
    return c


async def _may_manage(session: AsyncSession, who: Identity, c: models.Component) -> None:
    """Owners of the component (the `advisories` rule) and hub admins."""
    if who.is_admin:
        require_admin(who, _("publish or withdraw advisories"))
    else:
        await authorize(session, who, c, "advisories")


def _check(c: models.Component, data: AdvisoryCreate) -> models.Advisory:
    """The advisory as stored, every field checked; nothing is written before this passes."""
    if data.id is not None:
        fields.check_id(data.id)
    affected = []
    for entry in data.affected:
        if entry.package is not None and canonicalize_name(entry.package.name) != c.name:
            raise BadRequest(
                "advisory.package",
                _(
                    "affected package {package!r} is not {name!r}: an advisory published here "
                    "is about this component; publish it under the other component's URL",
                    package=entry.package.name,
                    name=c.display_name,
                ),
            )
        affected.append(ranges.check_affected(entry))
    now = utcnow()
    return models.Advisory(
        osv_id=data.id or "",
        component_id=c.id,
        aliases=fields.check_aliases(data.aliases, data.id),
        summary=data.summary.strip(),
        details=data.details,
        severity=fields.check_severity(data.severity),
        affected=affected,
        references=fields.check_references(data.references),
        published=data.published or now,
        modified=now,
    )


async def _next_id(session: AsyncSession, year: int) -> str:
    prefix = f"{fields.HUB_PREFIX}{year}-"
    taken = await session.scalar(
        select(func.count(models.Advisory.id)).where(models.Advisory.osv_id.startswith(prefix))
    )
    return f"{prefix}{int(taken or 0) + 1:04d}"


async def publish(hub: Hub, who: Identity, name: str, data: AdvisoryCreate) -> Osv:
    for attempt in range(_ATTEMPTS):
        async with hub.sessions() as session:
            c = await _component(session, name, who)
            await _may_manage(session, who, c)
            advisory = _check(c, data)
            advisory.created_by = who.user_id
            if data.id is None:
                advisory.osv_id = await _next_id(session, advisory.modified.year)
            elif await session.scalar(
                select(models.Advisory.id).where(models.Advisory.osv_id == data.id)
            ):
                raise _duplicate(data.id)
            session.add(advisory)
            await touch(
                session, c, "advisory.publish", actor=who.actor, detail={"id": advisory.osv_id}
            )
            try:
                await session.commit()
            except IntegrityError as exc:
                await session.rollback()
                if data.id is not None or attempt == _ATTEMPTS - 1:
                    raise _duplicate(advisory.osv_id) from exc
                continue
            view = render.osv(advisory, c.name)
        hub.changed(c.name)
        return view
    raise AssertionError("unreachable")  # pragma: no cover


def _duplicate(osv_id: str) -> Conflict:
    return Conflict(
        "advisory.duplicate",
        _(
            "an advisory {id!r} exists already; ids are never reused: change it with a new "
            "advisory, or withdraw the old one",
            id=osv_id,
        ),
    )


async def _load(session: AsyncSession, osv_id: str) -> tuple[models.Advisory, models.Component]:
    row = (
        await session.execute(
            select(models.Advisory, models.Component)
            .join(models.Component, models.Component.id == models.Advisory.component_id)
            .where(models.Advisory.osv_id == osv_id)
        )
    ).first()
    if row is None:
        raise NotFound(
            "advisory.missing",
            _("no advisory {id!r} on this hub; list them at /api/v1/advisories", id=osv_id),
        )
    return row[0], row[1]


async def withdraw(hub: Hub, who: Identity, osv_id: str, reason: str) -> Osv:
    async with hub.sessions() as session:
        advisory, c = await _load(session, osv_id)
        await _may_manage(session, who, c)
        if advisory.withdrawn is not None:
            raise Conflict(
                "advisory.withdrawn",
                _("advisory {id!r} was withdrawn already", id=osv_id),
            )
        advisory.withdrawn = advisory.modified = utcnow()
        await touch(
            session,
            c,
            "advisory.withdraw",
            actor=who.actor,
            detail={"id": osv_id, "reason": reason},
        )
        await session.commit()
        view = render.osv(advisory, c.name)
    hub.changed(c.name)
    return view


async def get(session: AsyncSession, osv_id: str, viewer: Identity | None = None) -> Osv:
    advisory, c = await _load(session, osv_id)
    if not await can_see(session, viewer, c):
        raise NotFound("advisory.missing", _("no advisory {id!r} on this hub", id=osv_id))
    return render.osv(advisory, c.name)


async def page(
    session: AsyncSession,
    page: int,
    per_page: int,
    *,
    name: str | None = None,
    since: datetime | None = None,
    viewer: Identity | None = None,
) -> AdvisoryPage:
    """Advisories, most recently modified first: of one component, or of every visible one
    (modified at or after `since`)."""
    where = []
    if name is not None:
        where.append(models.Advisory.component_id == (await _component(session, name, viewer)).id)
    else:
        where.append(models.Component.quarantined_at.is_(None))
    if since is not None:
        where.append(models.Advisory.modified >= since)
    base = select(models.Advisory, models.Component.name).join(
        models.Component, models.Component.id == models.Advisory.component_id
    )
    total = await session.scalar(select(func.count()).select_from(base.where(*where).subquery()))
    rows = await session.execute(
        base.where(*where)
        .order_by(models.Advisory.modified.desc(), models.Advisory.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return AdvisoryPage(
        vulns=[render.osv(a, component) for a, component in rows],
        page=page,
        per_page=per_page,
        total=int(total or 0),
    )


async def standing(session: AsyncSession, component_id: int) -> list[models.Advisory]:
    """A component's advisories that are not withdrawn, oldest first."""
    return list(
        await session.scalars(
            select(models.Advisory)
            .where(
                models.Advisory.component_id == component_id, models.Advisory.withdrawn.is_(None)
            )
            .order_by(models.Advisory.published, models.Advisory.id)
        )
    )


async def open_count(session: AsyncSession, component_id: int) -> int:
    """Advisories a user of the component would still meet: not withdrawn, and affecting its
    newest release that is not yanked (one fixed by a later release is closed). The quality
    score's `advisories` signal reads it (runtime.py plugs it into the hub)."""
    found = list(
        await session.scalars(
            select(models.Advisory.affected).where(
                models.Advisory.component_id == component_id,
                models.Advisory.withdrawn.is_(None),
            )
        )
    )
    if not found:
        return 0
    versions = await session.scalars(
        select(models.Release.version).where(
            models.Release.component_id == component_id, models.Release.yanked.is_(False)
        )
    )
    parsed = [v for v in (_version(text) for text in versions) if v is not None]
    if not parsed:
        return len(found)
    newest = max(parsed)
    return sum(1 for affected in found if ranges.affects(affected, newest))


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None
