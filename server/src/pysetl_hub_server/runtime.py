"""Building the `Hub` (hub.py) from settings: the one place that picks implementations.

Beside `app.py` and `cli.py` at the top of the import graph; no domain module imports it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pysetl_hub_provenance import PRODUCTION_TRUST_ROOT
from pysetl_hub_provenance.verify import verifier_for
from pysetl_hub_server.advisories.services import open_count
from pysetl_hub_server.anomalies.watch import check_all
from pysetl_hub_server.db.engine import make_engine, make_sessionmaker
from pysetl_hub_server.downloads import DownloadCounter
from pysetl_hub_server.faults import Faults
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.periodic import Periodic
from pysetl_hub_server.provenance.oidc.keys import IssuerKeys
from pysetl_hub_server.quality.services import refresh
from pysetl_hub_server.search.engine import SearchEngine
from pysetl_hub_server.search.indexer import Indexer
from pysetl_hub_server.security.ratelimit import Limiter
from pysetl_hub_server.settings import Settings
from pysetl_hub_server.simple.cache import IndexCache
from pysetl_hub_server.storage.blobs import open_configured_store
from pysetl_hub_server.storage.pending import SWEEP_INTERVAL, drop_pending
from pysetl_hub_server.storage.sweep import sweep_orphans


@dataclass(frozen=True, slots=True)
class Changes:
    """The `Notifier` of one process: its own cached pages go at once, search catches up."""

    cache: IndexCache
    indexer: Indexer

    def changed(self, name: str) -> None:
        self.cache.invalidate(name)
        self.indexer.kick()


def build_hub(settings: Settings) -> Hub:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    spool = settings.data_dir / "spool"
    spool.mkdir(parents=True, exist_ok=True)
    engine = make_engine(
        settings.effective_database_url, settings.database_timeout, settings.database_pool_size
    )
    sessions = make_sessionmaker(engine)
    blobs = open_configured_store(settings)
    sweep_orphans([spool, blobs.temp_dir()])
    cache = IndexCache(sessions, blobs, settings)
    indexer = Indexer(
        sessions,
        search_engine(settings, sessions, engine.dialect.name),
        settings.search_interval,
    )
    downloads = DownloadCounter(
        sessions, engine.dialect.name, settings.download_flush_interval, indexer.kick
    )
    trust_root = settings.sigstore_trust_root or PRODUCTION_TRUST_ROOT
    verifier_for(trust_root)  # fail at start, not at the first signed upload
    hub = Hub(
        settings,
        engine,
        sessions,
        blobs,
        cache,
        Faults(),
        spool,
        indexer,
        downloads,
        Changes(cache, indexer),
        trust_root,
        Limiter(settings.redis_url, limits=settings.rate_limits),
        IssuerKeys(settings.oidc),
        Periodic("blob-sweep", lambda: drop_pending(sessions, blobs), SWEEP_INTERVAL),
        Periodic(
            "anomaly-watch",
            lambda: check_all(sessions, settings.flags),
            settings.flags.check_interval,
        ),
        advisory_count=open_count,
    )

    async def score(session: AsyncSession, names: list[str] | None) -> None:
        # The hub's advisory count read at each change (a test may swap it).
        await refresh(session, blobs, settings.platforms, hub.advisory_count, names)

    indexer.prepare = score
    return hub


def search_engine(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], dialect: str
) -> SearchEngine:
    if settings.search_url:
        from pysetl_hub_server.search.meili import MeilisearchEngine

        versions = settings.platforms.by_axis()
        return MeilisearchEngine(settings.search_url, settings.search_key, versions)
    from pysetl_hub_server.search.builtin import BuiltinEngine

    return BuiltinEngine(sessions, dialect)


@asynccontextmanager
async def open_hub(settings: Settings) -> AsyncIterator[Hub]:
    """For CLI commands and jobs: the same services the app uses, without HTTP."""
    hub = build_hub(settings)
    try:
        yield hub
    finally:
        await hub.close()
