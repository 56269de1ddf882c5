"""The JSON API's component and release documents, rendered once per change and kept with the
index pages (`PageCache`): derived data, dropped by the same serial and invalidation hooks.

Only documents every viewer sees alike are kept: a quarantined component's depend on who asks,
so they are rendered per request. The hot path (`hotpath.py`) answers kept documents to
requests without credentials; the handlers answer them to everyone else.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request, Response
from litestar.serialization import encode_json
from packaging.utils import canonicalize_name

from pysetl_hub_schemas import Component, Release
from pysetl_hub_server.accounts.permissions import Identity
from pysetl_hub_server.answers import json_answer
from pysetl_hub_server.components import services
from pysetl_hub_server.finished import Finished
from pysetl_hub_server.hub import Hub


async def _answer(
    request: Request[Any, Any, Any],
    hub: Hub,
    name: str,
    key: str,
    build: Callable[[], Awaitable[tuple[Component | Release, bool]]],
) -> Response[Any]:
    answer = hub.cache.peek_document(key)
    if answer is None:
        # A miss reads the database (the index's unknown names are refused from memory; the
        # API answers what was committed, even before the serial poller has seen it).
        normalized = canonicalize_name(name)
        generation = hub.cache.generation(normalized)
        document, shared = await build()
        answer = json_answer(encode_json(document))
        if shared:
            hub.cache.put_document(normalized, key, answer, generation)
    return Finished(*answer.to(request.headers.get("if-none-match")))


async def component(
    request: Request[Any, Any, Any], hub: Hub, name: str, viewer: Identity | None
) -> Response[Any]:
    async def build() -> tuple[Component | Release, bool]:
        async with hub.sessions() as session:
            document = await services.get_component(session, name, viewer)
        return document, not document.quarantined

    return await _answer(request, hub, name, name, build)


async def release(
    request: Request[Any, Any, Any], hub: Hub, name: str, version: str, viewer: Identity | None
) -> Response[Any]:
    async def build() -> tuple[Component | Release, bool]:
        async with hub.sessions() as session:
            document, quarantined = await services.get_release_of(session, name, version, viewer)
        return document, not quarantined

    return await _answer(request, hub, name, f"{name}/{version}", build)
