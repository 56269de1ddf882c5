"""The JSON API's component and release documents, rendered once per change and kept with the
index pages (`PageCache`): derived data, dropped by the same serial and invalidation hooks.

Only documents every viewer sees alike are kept: a quarantined component's depend on who asks,
so they are rendered per request. The hot path (`hotpath.py`) answers kept documents to
requests without credentials whose path is spelled canonically; the handlers answer them to
everyone else. A document is kept once, under the normalized name and the release's own
version in PEP 440 normal form (`Foo_Bar/v1.0.0` and `foo-bar/1.0.0` are one entry; `1.0` for
a release 1.0.0 is answered, never kept): spellings cannot multiply entries or push index
pages out.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request, Response
from litestar.serialization import encode_json
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from pysetl_hub_schemas import Component, Release
from pysetl_hub_server.accounts.permissions import Identity
from pysetl_hub_server.answers import json_answer
from pysetl_hub_server.bounds import MAX_VERSION
from pysetl_hub_server.components import services
from pysetl_hub_server.finished import Finished
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.quality.services import Scorer


def _normal(version: str) -> str | None:
    if len(version) > MAX_VERSION:
        return None
    try:
        return str(Version(version))
    except InvalidVersion:
        return None


def document_key(name: str, version: str | None = None) -> str | None:
    """The cache key of a document: the normalized name, and the version in PEP 440 normal
    form; None when the version is none (nothing to keep)."""
    normalized = canonicalize_name(name)
    if version is None:
        return normalized
    normal = _normal(version)
    return None if normal is None else f"{normalized}/{normal}"


async def _answer(
    request: Request[Any, Any, Any],
    hub: Hub,
    name: str,
    key: str | None,
    build: Callable[[], Awaitable[tuple[Component | Release, bool]]],
) -> Response[Any]:
    answer = None if key is None else hub.cache.peek_document(key)
    if answer is None:
        # A miss reads the database (the index's unknown names are refused from memory; the
        # API answers what was committed, even before the serial poller has seen it).
        normalized = canonicalize_name(name)
        generation = hub.cache.generation(normalized)
        document, shared = await build()
        answer = json_answer(encode_json(document))
        if shared and key is not None:
            hub.cache.put_document(normalized, key, answer, generation)
    return Finished(*answer.to(request.headers.get("if-none-match")))


async def component(
    request: Request[Any, Any, Any], hub: Hub, name: str, viewer: Identity | None
) -> Response[Any]:
    async def build() -> tuple[Component | Release, bool]:
        async with hub.sessions() as session:
            document = await services.get_component(session, name, viewer, Scorer.of(hub))
        return document, not document.quarantined

    return await _answer(request, hub, name, document_key(name), build)


async def release(
    request: Request[Any, Any, Any], hub: Hub, name: str, version: str, viewer: Identity | None
) -> Response[Any]:
    key = document_key(name, version)

    async def build() -> tuple[Component | Release, bool]:
        async with hub.sessions() as session:
            document, quarantined = await services.get_release_of(session, name, version, viewer)
        # Kept only when asked as the release is numbered (1.0.0, not 1.0 or 1.0.0.0: the
        # trailing zeros that still find it would each make an entry).
        own = key == document_key(name, document.version)
        return document, own and not quarantined

    return await _answer(request, hub, name, key, build)
