"""The web marketplace as one Litestar router, plus its static files."""

from __future__ import annotations

from typing import Any

from litestar import Router
from litestar.datastructures import CacheControlHeader
from litestar.di import Provide
from litestar.static_files import create_static_files_router

from pysetl_hub_server.web import account, pages
from pysetl_hub_server.web.context import provide_visitor
from pysetl_hub_server.web.errors import HANDLERS
from pysetl_hub_server.web.templating import STATIC

ONE_YEAR = 365 * 24 * 3600


def web_router() -> Router:
    return Router(
        path="/",
        route_handlers=[*pages.ROUTES, *account.ROUTES],
        dependencies={"visitor": Provide(provide_visitor)},
        exception_handlers=HANDLERS,
        include_in_schema=False,
    )


def static_router() -> Any:
    """`/static/...`: every URL the pages use carries the file's digest (templating.static_url),
    so a file may be kept for a year."""
    return create_static_files_router(
        path="/static",
        directories=[STATIC],
        cache_control=CacheControlHeader(max_age=ONE_YEAR, public=True),
        include_in_schema=False,
        name="web.static",
    )
