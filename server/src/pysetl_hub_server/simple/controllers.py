"""`/simple/`: PEP 503 HTML and PEP 691 JSON by content negotiation, served from memory."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect
from packaging.utils import canonicalize_name

from pysetl_hub_server.answers import RenderedPage, wants_gzip
from pysetl_hub_server.finished import Finished
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.simple.media import missing, negotiate


def _respond(request: Request[Any, Any, Any], page: RenderedPage, media: str) -> Response[Any]:
    answer = page.answer(media, wants_gzip(request.headers.get("accept-encoding")))
    return Finished(*answer.to(request.headers.get("if-none-match")))


@get(["/simple/", "/simple"], tags=["index"], summary="Project list (PEP 503/691)", cache=False)
async def simple_root(request: Request[Any, Any, Any], hub: NamedDependency[Hub]) -> Response[Any]:
    media = negotiate(request.headers.get("accept"), request.query_params.get("format"))
    return _respond(request, await hub.cache.root(), media)


@get(
    ["/simple/{name:str}/", "/simple/{name:str}"],
    tags=["index"],
    summary="Files of one project (PEP 503/691, 592, 658, 700, 714)",
)
async def simple_project(
    request: Request[Any, Any, Any], name: FromPath[str], hub: NamedDependency[Hub]
) -> Response[Any]:
    media = negotiate(request.headers.get("accept"), request.query_params.get("format"))
    page = hub.cache.peek(name)
    if page is None:
        normalized = canonicalize_name(name)
        if normalized != name:
            return Redirect(f"/simple/{normalized}/", status_code=301)
        page = await hub.cache.project(name)
        if page is None:
            raise missing(name)
    return _respond(request, page, media)
