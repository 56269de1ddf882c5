"""The change feed over HTTP: signed pages, the public key, the live stream, Atom feeds."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, HeaderParameter, QueryParameter
from litestar.response import ServerSentEvent
from packaging.utils import canonicalize_name
from sqlalchemy import select

from pysetl_hub_schemas.feed import (
    FEED_KEY_PATH,
    KEY_ID_HEADER,
    SIGNATURE_HEADER,
    ChangePage,
    FeedKey,
)
from pysetl_hub_server.audit.services import last_serial
from pysetl_hub_server.db import models
from pysetl_hub_server.errors import BadRequest, NotFound
from pysetl_hub_server.feed import atom, stream
from pysetl_hub_server.feed.runtime import FeedRuntime
from pysetl_hub_server.feed.services import DEFAULT_LIMIT, MAX_LIMIT, MAX_SERIAL, changes_page
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.i18n.messages import _

Since = Annotated[
    int,
    QueryParameter(
        ge=0, le=MAX_SERIAL, description="Changes after this serial (exclusive); 0: all."
    ),
]


@get(
    "/api/v1/changes",
    tags=["feed"],
    summary="The signed change feed: public changes after a serial, oldest first",
    responses={
        200: ResponseSpec(
            data_container=ChangePage,
            description="A page of changes; X-Hub-Signature signs its exact bytes",
        )
    },
)
async def changes(
    hub: NamedDependency[Hub],
    feed: NamedDependency[FeedRuntime],
    since: Since = 0,
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Response[bytes]:
    async with hub.sessions() as session:
        page = await changes_page(session, since, limit)
    body = msgspec.json.encode(page)
    return Response(
        content=body,
        media_type="application/json",
        headers={
            SIGNATURE_HEADER: feed.signer.sign(body),
            KEY_ID_HEADER: feed.signer.key_id,
            "Cache-Control": "no-cache",
        },
    )


@get(FEED_KEY_PATH, tags=["feed"], summary="The public key that signs the change feed")
async def feed_key(feed: NamedDependency[FeedRuntime]) -> FeedKey:
    return feed.signer.published()


@get(
    "/api/v1/changes/stream",
    tags=["feed"],
    summary="Live changes as Server-Sent Events (`id:` is the serial; resumes at Last-Event-ID)",
)
async def changes_stream(
    hub: NamedDependency[Hub],
    feed: NamedDependency[FeedRuntime],
    since: Annotated[int | None, QueryParameter(ge=0, le=MAX_SERIAL)] = None,
    last_event_id: Annotated[
        str | None, HeaderParameter(name="Last-Event-ID", description="Resume after this serial.")
    ] = None,
) -> ServerSentEvent:
    start = since
    if last_event_id is not None:
        value = last_event_id.strip()
        if not (value.isascii() and value.isdigit() and len(value) <= 19) or (
            int(value) > MAX_SERIAL
        ):
            raise BadRequest(
                "feed.last_event_id",
                _(
                    "Last-Event-ID {value!r} is not a serial: send back the id of the last event"
                    " you received (a whole number), or leave it out to start now",
                    value=last_event_id[:40],
                ),
            )
        start = int(value)
    if start is None:  # a new follower starts now, not at the beginning of time
        async with hub.sessions() as session:
            start = await last_serial(session)
    return ServerSentEvent(
        stream.events(hub.sessions, feed.serials, hub.settings.feed, start),
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _base(hub: Hub, request: Request[Any, Any, Any]) -> str:
    return (hub.settings.base_url or str(request.base_url)).rstrip("/")


def _atom(feed: atom.Feed) -> Response[bytes]:
    return Response(content=atom.render(feed), media_type=atom.MEDIA_TYPE)


@get("/feeds/components.atom", tags=["feed"], summary="New components (Atom)")
async def components_atom(
    hub: NamedDependency[Hub], request: Request[Any, Any, Any]
) -> Response[bytes]:
    async with hub.sessions() as session:
        return _atom(await atom.components_feed(session, _base(hub, request)))


@get(
    "/feeds/components/{name:str}/releases.atom",
    tags=["feed"],
    summary="A component's releases (Atom)",
)
async def releases_atom(
    name: FromPath[str], hub: NamedDependency[Hub], request: Request[Any, Any, Any]
) -> Response[bytes]:
    async with hub.sessions() as session:
        component = await session.scalar(
            select(models.Component).where(
                models.Component.name == canonicalize_name(name),
                models.Component.quarantined_at.is_(None),
            )
        )
        if component is None:
            raise NotFound(
                "component.missing", _("no component named {name!r} on this hub", name=name)
            )
        return _atom(await atom.releases_feed(session, _base(hub, request), component))


@get("/feeds/advisories.atom", tags=["feed"], summary="Security advisories (Atom)")
async def advisories_atom(
    hub: NamedDependency[Hub], request: Request[Any, Any, Any]
) -> Response[bytes]:
    async with hub.sessions() as session:
        return _atom(await atom.advisories_feed(session, _base(hub, request)))


ROUTES = [changes, feed_key, changes_stream, components_atom, releases_atom, advisories_atom]
