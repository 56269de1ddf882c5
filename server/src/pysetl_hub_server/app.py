"""`create_app(settings)`: the served ASGI app, the hot path around the Litestar application."""

from __future__ import annotations

import ctypes
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin

from pysetl_hub_server import __version__
from pysetl_hub_server.accounts.controllers import ROUTES as ACCOUNT_ROUTES
from pysetl_hub_server.advisories.controllers import (
    AdvisoryController,
    ComponentAdvisoryController,
    OsvController,
)
from pysetl_hub_server.anomalies.controllers import ROUTES as FLAG_ROUTES
from pysetl_hub_server.audit.controllers import ROUTES as AUDIT_ROUTES
from pysetl_hub_server.components.controllers import ComponentController
from pysetl_hub_server.deps import provide_hub, provide_identity, provide_viewer
from pysetl_hub_server.feed.controllers import ROUTES as FEED_ROUTES
from pysetl_hub_server.feed.runtime import FeedRuntime, provide_feed
from pysetl_hub_server.feed.webhooks.controllers import ROUTES as WEBHOOK_ROUTES
from pysetl_hub_server.files.controllers import download
from pysetl_hub_server.governance.controllers.admin import AdminController
from pysetl_hub_server.governance.controllers.components import RoleController
from pysetl_hub_server.governance.controllers.invitations import InvitationController
from pysetl_hub_server.governance.controllers.orgs import OrgController
from pysetl_hub_server.head import HeadAsGet
from pysetl_hub_server.health.controllers import healthz, readyz
from pysetl_hub_server.hotpath import HotPath
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.logs import configure_logging
from pysetl_hub_server.mirror.controllers import ROUTES as MIRROR_ROUTES
from pysetl_hub_server.observability import metrics
from pysetl_hub_server.observability.controllers import metrics_endpoint
from pysetl_hub_server.observability.layer import Observed
from pysetl_hub_server.observability.sampler import sampler
from pysetl_hub_server.problems import exception_handlers
from pysetl_hub_server.provenance.controllers import PublisherController, provenance
from pysetl_hub_server.provenance.oidc.controllers import OidcController
from pysetl_hub_server.publishing.controllers import upload
from pysetl_hub_server.pypi.controllers import ROUTES as PYPI_ROUTES
from pysetl_hub_server.runtime import build_hub
from pysetl_hub_server.search.controllers import search
from pysetl_hub_server.security.headers import SecurityHeaders
from pysetl_hub_server.security.production import check_production
from pysetl_hub_server.security.readonly import ReadOnlyGate
from pysetl_hub_server.settings import Settings
from pysetl_hub_server.simple.controllers import simple_project, simple_root
from pysetl_hub_server.stats.controllers import ROUTES as STATS_ROUTES
from pysetl_hub_server.web.cache import SEARCH_SETTLE, PageMemo
from pysetl_hub_server.web.errors import web_http_error, web_internal_error
from pysetl_hub_server.web.hot import WebPages
from pysetl_hub_server.web.openapi import ApiReference
from pysetl_hub_server.web.router import static_router, web_router

log = logging.getLogger("pysetl_hub_server")


def create_app(settings: Settings | None = None, hub: Hub | None = None) -> Observed:
    """The served ASGI app: the request id and metrics layer around the security headers around
    the read-only gate around the hot path around HEAD-as-GET (head.py) around the Litestar
    app. The database must be migrated already (`serve` and tests do it)."""
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    check_production(settings)
    the_hub = hub or build_hub(settings)
    memo = web_memo(the_hub)
    pages = WebPages(memo, the_hub.settings.base_url)
    hot = HotPath(
        HeadAsGet(create_litestar(the_hub, memo)),
        the_hub.cache,
        the_hub.downloads,
        pages,
        the_hub.search,
    )
    secured = SecurityHeaders(ReadOnlyGate(hot, the_hub.sessions, settings.read_only))
    return Observed(secured, access_log=settings.access_log)


def web_memo(the_hub: Hub) -> PageMemo:
    """Rendered pages; a listing rendered just after a change may predate its search documents
    (written by whichever replica's indexer runs first), so it lives only SEARCH_SETTLE."""
    return PageMemo(
        the_hub.settings.web_page_cache_entries, settle=SEARCH_SETTLE, settle_components=False
    )


def freeze_heap() -> None:
    """Collect once, then freeze: what start-up built lives as long as the process, and a full
    collection that walks it again and again stalls the event loop (settings.gc_freeze).
    Objects freed later by their reference counts still go; only cycles made before this
    moment and dropped later would stay, so it runs once, after the warm start."""
    gc.collect()
    gc.freeze()
    _trim()


def _trim() -> None:
    """Hand the start-up's freed memory back to the system (glibc keeps it otherwise): reading
    100k names and rendering the project list peak far above what stays."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (musl, macOS): nothing to trim
        return
    libc.malloc_trim(0)


def create_litestar(the_hub: Hub, memo: PageMemo | None = None) -> Litestar:
    """Routes, dependencies, problem+json handlers and OpenAPI around an already built hub."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.hub = the_hub
        await the_hub.start()
        if the_hub.settings.gc_freeze:
            freeze_heap()
        gauges = sampler(the_hub, [app.state.web_memo, app.state.search_memo])
        gauges.start()
        try:
            yield
        finally:
            await gauges.stop()
            await the_hub.close()
            metrics.process_exited()

    feed = FeedRuntime.build(the_hub)
    app = Litestar(
        route_handlers=[
            upload,
            simple_root,
            simple_project,
            download,
            ComponentController,
            PublisherController,
            OidcController,
            provenance,
            search,
            healthz,
            readyz,
            metrics_endpoint,
            RoleController,
            InvitationController,
            OrgController,
            AdminController,
            ComponentAdvisoryController,
            AdvisoryController,
            OsvController,
            *PYPI_ROUTES,
            *ACCOUNT_ROUTES,
            *AUDIT_ROUTES,
            *STATS_ROUTES,
            *FEED_ROUTES,
            *WEBHOOK_ROUTES,
            *FLAG_ROUTES,
            *MIRROR_ROUTES,
            web_router(),
            static_router(),
        ],
        dependencies={
            "hub": Provide(provide_hub, sync_to_thread=False),
            "who": Provide(provide_identity),
            "viewer": Provide(provide_viewer),
            "feed": Provide(provide_feed, sync_to_thread=False),
        },
        # A browser that asks for an unknown page, or meets a bug, gets a page; others a problem.
        exception_handlers={
            **exception_handlers,
            HTTPException: web_http_error,
            Exception: web_internal_error,
        },
        lifespan=[lifespan, feed.lifespan],
        openapi_config=OpenAPIConfig(
            title="PySetl Hub",
            version=__version__,
            description="Registry and marketplace for PySetl components.",
            path="/schema",
            render_plugins=[ApiReference(), JsonRenderPlugin()],
        ),
        debug=False,
        # Logging is configured once, by logs.configure_logging, whose handlers mask secrets:
        # Litestar's default set-up would replace the root logger's handlers with its own.
        logging_config=None,
    )
    app.state.hub = the_hub
    app.state.feed = feed
    if memo is None:  # (an empty memo is falsy: it has a length)
        memo = web_memo(the_hub)
    the_hub.cache.on_invalidate(memo.invalidate)
    # Listing pages show search documents: dropped again once this replica's indexer wrote them
    # (another replica's indexer may write them: then they live only SEARCH_SETTLE seconds).
    web = memo
    the_hub.indexer.on_indexed(lambda names: web.invalidate(""))
    app.state.web_memo = memo
    # Search answers: their own memo, so a flood of searches never pushes out component pages.
    # Dropped when a change is announced and again once this replica's engine indexed it;
    # answers read just after a change live only SEARCH_SETTLE seconds (another replica may
    # index it a moment later).
    search_memo = PageMemo(
        the_hub.settings.web_page_cache_entries, settle=SEARCH_SETTLE, kind=metrics.SEARCH_PAGE
    )
    the_hub.cache.on_invalidate(search_memo.invalidate)
    the_hub.indexer.on_indexed(lambda names: search_memo.invalidate(""))
    app.state.search_memo = search_memo
    return app
