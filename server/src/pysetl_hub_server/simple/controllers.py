"""`/simple/`: PEP 503 HTML and PEP 691 JSON by content negotiation, served from memory."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect
from packaging.utils import canonicalize_name

from pysetl_hub_server.errors import HubError, NotFound
from pysetl_hub_server.runtime import Hub
from pysetl_hub_server.simple.cache import RenderedPage
from pysetl_hub_server.simple.render import HTML_TYPE, JSON_TYPE, TEXT_HTML

_FORMATS = {
    JSON_TYPE: JSON_TYPE,
    "application/vnd.pypi.simple.latest+json": JSON_TYPE,
    HTML_TYPE: HTML_TYPE,
    "application/vnd.pypi.simple.latest+html": HTML_TYPE,
    TEXT_HTML: TEXT_HTML,
    "*/*": TEXT_HTML,
    "text/*": TEXT_HTML,
    "application/*": JSON_TYPE,
}


class NotAcceptable(HubError):
    status = 406
    title = "Not Acceptable"


def negotiate(accept: str | None, fmt: str | None) -> str:
    """Pick the response type by the Accept header's q-values (PEP 691); HTML by default."""
    if fmt:
        if fmt in _FORMATS:
            return _FORMATS[fmt]
        raise NotAcceptable("simple.format", f"unknown ?format={fmt!r}")
    if not accept:
        return TEXT_HTML
    best, best_q = None, -1.0
    for position, item in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in item.split(";"))
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        chosen = _FORMATS.get(media.lower())
        # Among equal q-values the first listed wins (as PyPI does).
        if chosen and q > 0 and (q > best_q or (q == best_q and best is None)):
            best, best_q = chosen, q - position * 1e-6
    if best is None:
        raise NotAcceptable(
            "simple.not_acceptable",
            f"none of the types in Accept: {accept!r} is served; ask for {JSON_TYPE}, "
            f"{HTML_TYPE} or text/html",
        )
    return best


def _respond(request: Request[Any, Any, Any], page: RenderedPage, media: str) -> Response[bytes]:
    if media == JSON_TYPE:
        body, etag = page.json, page.etag_json
    else:
        body, etag = page.html, page.etag_html
    headers = {
        "ETag": etag,
        "Vary": "Accept",
        "X-PyPI-Last-Serial": str(page.serial),
        "Cache-Control": "max-age=60, public",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(content=b"", status_code=304, headers=headers)
    return Response(content=body, media_type=media, headers=headers)


@get(["/simple/", "/simple"], tags=["index"], summary="Project list (PEP 503/691)", cache=False)
async def simple_root(
    request: Request[Any, Any, Any], hub: NamedDependency[Hub]
) -> Response[bytes]:
    media = negotiate(request.headers.get("accept"), request.query_params.get("format"))
    return _respond(request, await hub.cache.root(), media)


@get(
    ["/simple/{name:str}/", "/simple/{name:str}"],
    tags=["index"],
    summary="Files of one project (PEP 503/691, 592, 658, 700, 714)",
)
async def simple_project(
    request: Request[Any, Any, Any], name: FromPath[str], hub: NamedDependency[Hub]
) -> Response[bytes]:
    media = negotiate(request.headers.get("accept"), request.query_params.get("format"))
    page = hub.cache.peek(name)
    if page is None:
        normalized = canonicalize_name(name)
        if normalized != name:
            return Redirect(f"/simple/{normalized}/", status_code=301)
        page = await hub.cache.project(name)
        if page is None:
            raise NotFound(
                "component.missing",
                f"no component named {name!r} on this hub: check the name, or search for it",
            )
    return _respond(request, page, media)
