"""`Hub`: the services one server process holds, as the handlers and domain services see them.

A leaf: every field is typed by a Protocol (or a plain value), so a domain module depends on
what it uses, never on how `runtime.py` built it, and nothing here imports a domain module.
Tests and CLI commands get the same object without HTTP.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from pysetl_hub_server.answers import Answer, RenderedPage, StoredFile
from pysetl_hub_server.faults import Faults
from pysetl_hub_server.lru import CacheStats
from pysetl_hub_server.search.engine import SearchEngine
from pysetl_hub_server.settings import Settings
from pysetl_hub_server.storage.blobs import BlobStore

if TYPE_CHECKING:
    from jwt import PyJWK

ROOT = "\x00root"  # the PageCache key of the project list (no project can be named so)


class PageCache(Protocol):
    """Index pages and small files in memory, coherent with the database serial."""

    def peek(self, name: str) -> RenderedPage | None:
        """The cached page (`ROOT` for the project list), without I/O."""

    async def project(self, name: str) -> RenderedPage | None: ...
    async def root(self) -> RenderedPage: ...
    async def file(self, sha256: str, filename: str) -> StoredFile | None: ...

    def peek_file(self, sha256: str, filename: str) -> Answer | None:
        """The finished answer of a known file when it is in memory, without I/O."""

    async def small_file(self, digest: str, filename: str, size: int) -> Answer | None:
        """The finished answer of a small blob served as `filename` (None: too big to keep)."""

    def unknown(self, name: str) -> bool:
        """True when no component has the normalized `name` (known from memory, without I/O)."""

    def peek_document(self, key: str) -> Answer | None:
        """A cached JSON API document, without I/O."""

    def generation(self, name: str) -> int:
        """Read before building a document of `name`; hand it back to `put_document`."""

    def put_document(self, name: str, key: str, answer: Answer, generation: int) -> None:
        """Keep a JSON API document of `name` unless `name` changed since `generation`."""

    def stats(self) -> Mapping[str, CacheStats]:
        """Hits, misses, entries and bytes against the budget, per memory (pages, files)."""

    def invalidate(self, name: str) -> None: ...

    def on_invalidate(self, listener: Callable[[str], None]) -> None:
        """Call `listener(name)` whenever `name` changed, in this process or another."""

    async def start(self) -> None: ...
    async def stop(self) -> None: ...


class Indexing(Protocol):
    """Keeps the search engine in step with the database (the outbox worker)."""

    @property
    def engine(self) -> SearchEngine: ...
    def kick(self) -> None: ...
    async def reindex(self) -> int: ...

    def on_indexed(self, listener: Callable[[list[str]], None]) -> None:
        """Call `listener(names)` once the engine answers with those components' new state."""

    async def start(self) -> None: ...
    async def stop(self) -> None: ...


class Downloads(Protocol):
    """Counts served downloads in memory; flushed in the background."""

    def count(self, filename: str) -> None: ...
    def start(self) -> None: ...
    async def stop(self) -> None: ...


class Background(Protocol):
    """A task that runs every few seconds while the hub is up (say, the blob sweep)."""

    def start(self) -> None: ...
    async def stop(self) -> None: ...


class RateLimits(Protocol):
    """Counts repeated actions (in memory, or in Redis shared by replicas); 429 past a limit."""

    async def hit(self, policy: str, *keys: str) -> None: ...
    async def check(self, policy: str, *keys: str) -> None: ...
    async def clear(self, policy: str, *keys: str) -> None: ...


class OidcKeys(Protocol):
    """Signing keys of the trusted OIDC issuers, cached; refetched (rate-limited) on a new kid."""

    async def key(self, issuer: str, kid: str | None, alg: str) -> PyJWK: ...


class Notifier(Protocol):
    def changed(self, name: str) -> None:
        """After a commit that changed `name`: drop what is derived from it, everywhere."""


# How many open security advisories a component has (session, component id): an input of the
# quality score. The advisories table plugs in here; until then none are open.
AdvisoryCount = Callable[[AsyncSession, int], Awaitable[int]]


async def no_advisories(session: AsyncSession, component_id: int) -> int:
    return 0


@dataclass(slots=True)
class Hub:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    blobs: BlobStore
    cache: PageCache
    faults: Faults
    spool_dir: Path
    indexer: Indexing
    downloads: Downloads
    notifier: Notifier
    # The Sigstore trusted_root.json upload attestations are verified against.
    trust_root: Path
    limits: RateLimits
    # Trusted publishing: the keys CI OIDC tokens are verified with (provenance/oidc).
    oidc_keys: OidcKeys
    # Deletes blobs whose files are gone once the store answers (storage/pending.py).
    blob_sweep: Background
    # The periodic anomaly checks (download spikes, sdist-only releases): anomalies/watch.py.
    anomaly_watch: Background | None = None
    advisory_count: AdvisoryCount = no_advisories

    @property
    def search(self) -> SearchEngine:
        return self.indexer.engine

    def changed(self, name: str) -> None:
        self.notifier.changed(name)

    async def start(self) -> None:
        await self.cache.start()
        await self.indexer.start()
        self.downloads.start()
        self.blob_sweep.start()
        if self.anomaly_watch is not None:
            self.anomaly_watch.start()

    async def close(self) -> None:
        if self.anomaly_watch is not None:
            await self.anomaly_watch.stop()
        await self.blob_sweep.stop()
        await self.downloads.stop()
        await self.indexer.stop()
        await self.cache.stop()
        await self.engine.dispose()
