"""Trusted publishers of a component, and its `require_attestations` setting.

Registering a publisher for a name nobody has published yet reserves it for the caller (as
PyPI's pending publishers do), so the very first upload can already be a signed one.
"""

from __future__ import annotations

import re

import msgspec
from packaging.utils import canonicalize_name
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_provenance import PublisherSpecError, check_publisher
from pysetl_hub_schemas import (
    ComponentSettings,
    Publisher,
    PublisherList,
    PublisherRequest,
    TrustedPublisher,
)
from pysetl_hub_server.accounts.permissions import Identity, authorize
from pysetl_hub_server.audit.services import touch
from pysetl_hub_server.components.create import create_component
from pysetl_hub_server.db import models
from pysetl_hub_server.errors import BadRequest, Conflict, NotFound
from pysetl_hub_server.governance.quarantine import require_visible
from pysetl_hub_server.hub import Hub, RateLimits
from pysetl_hub_server.i18n.messages import _
from pysetl_hub_server.provenance.oidc.services import revoke_minted

NAME_RE = re.compile(r"^([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])$")


def publisher_of(row: models.TrustedPublisher) -> Publisher:
    return Publisher(
        kind=row.kind,  # type: ignore[arg-type]
        repository=row.repository,
        workflow=row.workflow,
        environment=row.environment,
        issuer=row.issuer,
        identity=row.identity,
    )


async def trusted(session: AsyncSession, component_id: int) -> list[Publisher]:
    rows = await session.scalars(
        select(models.TrustedPublisher)
        .where(models.TrustedPublisher.component_id == component_id)
        .order_by(models.TrustedPublisher.id)
    )
    return [publisher_of(r) for r in rows]


async def _component(session: AsyncSession, name: str) -> models.Component:
    row = await session.scalar(
        select(models.Component).where(models.Component.name == canonicalize_name(name))
    )
    if row is None:
        raise NotFound("component.missing", _("no component named {name!r} on this hub", name=name))
    return row


async def _view(session: AsyncSession, c: models.Component) -> PublisherList:
    rows = await session.execute(
        select(models.TrustedPublisher, models.User.username)
        .outerjoin(models.User, models.User.id == models.TrustedPublisher.created_by)
        .where(models.TrustedPublisher.component_id == c.id)
        .order_by(models.TrustedPublisher.id)
    )
    return PublisherList(
        component=c.name,
        require_attestations=c.require_attestations,
        publishers=[
            TrustedPublisher(
                id=r.id, publisher=publisher_of(r), spec=r.spec, added=r.created, added_by=user
            )
            for r, user in rows
        ],
    )


async def list_publishers(
    session: AsyncSession, name: str, viewer: Identity | None = None
) -> PublisherList:
    c = await _component(session, name)
    await require_visible(session, viewer, c)
    return await _view(session, c)


async def add_publisher(
    hub: Hub, who: Identity, name: str, data: PublisherRequest
) -> PublisherList:
    try:
        publisher = check_publisher(Publisher(**msgspec.structs.asdict(data)))
    except PublisherSpecError as exc:
        raise BadRequest("publisher.invalid", str(exc)) from exc
    spec = str(publisher)
    async with hub.sessions() as session:
        normalized = canonicalize_name(name)
        c = await session.scalar(
            select(models.Component).where(models.Component.name == normalized)
        )
        if c is None:
            c = await _reserve(session, who, name, hub.limits)
        else:
            await authorize(session, who, c, "publishers")
        exists = await session.scalar(
            select(models.TrustedPublisher.id).where(
                models.TrustedPublisher.component_id == c.id,
                models.TrustedPublisher.spec == spec,
            )
        )
        if exists is not None:
            raise Conflict(
                "publisher.exists",
                _(
                    "{spec} is already a trusted publisher of {component!r}",
                    spec=spec,
                    component=c.display_name,
                ),
            )
        session.add(
            models.TrustedPublisher(
                component_id=c.id,
                kind=publisher.kind,
                spec=spec,
                repository=publisher.repository,
                workflow=publisher.workflow,
                environment=publisher.environment,
                issuer=publisher.issuer,
                identity=publisher.identity,
                created_by=who.user_id,
            )
        )
        await touch(session, c, "publisher.add", actor=who.actor, detail={"publisher": spec})
        await session.commit()
        view = await _view(session, c)
    hub.changed(c.name)
    return view


async def _reserve(
    session: AsyncSession, who: Identity, name: str, limits: RateLimits
) -> models.Component:
    """A new, empty component owned by the caller: the pending-publisher case."""
    if not NAME_RE.match(name) or len(name) > 128:
        raise BadRequest(
            "component.name", _("{name!r} is not a valid distribution name (PEP 508)", name=name)
        )
    return await create_component(session, who, name, limits=limits)


async def remove_publisher(hub: Hub, who: Identity, name: str, publisher_id: int) -> PublisherList:
    async with hub.sessions() as session:
        c = await _component(session, name)
        await authorize(session, who, c, "publishers")
        row = await session.scalar(
            select(models.TrustedPublisher).where(
                models.TrustedPublisher.id == publisher_id,
                models.TrustedPublisher.component_id == c.id,
            )
        )
        if row is None:
            raise NotFound(
                "publisher.missing",
                _(
                    "{component!r} has no trusted publisher #{publisher_id}; list them with "
                    "`pysetl-hub publishers list`",
                    component=c.display_name,
                    publisher_id=publisher_id,
                ),
            )
        await session.delete(row)
        await revoke_minted(session, c.id)  # what it minted dies with it, not 15 minutes later
        await touch(session, c, "publisher.remove", actor=who.actor, detail={"publisher": row.spec})
        await session.commit()
        view = await _view(session, c)
    hub.changed(c.name)
    return view


async def update_settings(
    hub: Hub, who: Identity, name: str, data: ComponentSettings
) -> PublisherList:
    async with hub.sessions() as session:
        c = await _component(session, name)
        await authorize(session, who, c, "settings")
        if data.require_attestations is not None:
            if data.require_attestations and not await trusted(session, c.id):
                raise BadRequest(
                    "publisher.none",
                    _(
                        "{component!r} has no trusted publisher, so requiring attestations "
                        "would refuse every upload: add one first with `pysetl-hub publishers "
                        "add`",
                        component=c.display_name,
                    ),
                )
            c.require_attestations = data.require_attestations
            await touch(
                session,
                c,
                "component.settings",
                actor=who.actor,
                detail={"require_attestations": data.require_attestations},
            )
        await session.commit()
        view = await _view(session, c)
    hub.changed(c.name)
    return view
