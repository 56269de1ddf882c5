"""In-memory index pages, JSON documents, known names and hot files, kept coherent across
replicas by the DB serial.

Each change moves a serial forward in the database (the audit journal). The process that made
the change drops its own entries at once; every replica also polls the highest serial and
drops the entries of components that changed since it last looked. A per-name generation
counter stops a render that raced with a change from storing a stale entry.

Memory is bounded: pages and documents share one byte budget, files another (`lru.py`, least
recently used first). Concurrent first requests for one page render it once (single flight),
and the project list, the one page whose render grows with the catalogue, is rendered and
compressed off the event loop. The set of known names lets a request for a name that does not
exist be refused from memory, so a flood of random names never reaches the database.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pysetl_hub_server.answers import (
    ANSWER_OVERHEAD,
    Answer,
    RenderedPage,
    StoredFile,
    file_answer,
    rendered_page,
)
from pysetl_hub_server.hub import ROOT
from pysetl_hub_server.lru import ByteLRU, CacheStats
from pysetl_hub_server.observability import metrics
from pysetl_hub_server.periodic import Periodic
from pysetl_hub_server.settings import Settings
from pysetl_hub_server.simple import render, services
from pysetl_hub_server.storage.blobs import BlobStore, blob_key

log = logging.getLogger(__name__)
BATCH = 256  # first requests rendered per query
# Before it serves, a process renders index pages until this share of the page budget is full,
# or for at most WARM_SECONDS (then it serves, and the rest render on first request): a fresh
# replica's first requests are answered from memory instead of queueing renders.
WARM_SHARE = 0.5
WARM_SECONDS = 20.0
DOC = "\x00doc\x00"  # prefix of the keys of JSON documents (no project can be named so)
# Published files whose (digest, filename) -> StoredFile lookups are kept, the least recently
# asked dropped first: a few hundred bytes each, so the catalogue cannot grow it without bound.
FILES_KEPT = 65536

Entry = RenderedPage | Answer


# What a page holds beyond its answers (its dicts), as tracemalloc measures it: the budget is
# the memory the entries take, not only their bodies (tests/server/simple/test_lru.py).
PAGE_OVERHEAD = 600


def _entry_size(entry: Entry) -> int:
    if isinstance(entry, Answer):
        return len(entry.body) + ANSWER_OVERHEAD
    answers = len(entry.answers) + len(entry.gzipped or ())
    return entry.size + answers * ANSWER_OVERHEAD + PAGE_OVERHEAD


def _project_page(snapshot: services.ProjectSnapshot) -> RenderedPage:
    return rendered_page(
        snapshot.serial, render.project_html(snapshot), render.project_json(snapshot)
    )


def _render_all(snapshots: dict[str, services.ProjectSnapshot]) -> dict[str, RenderedPage]:
    return {name: _project_page(snapshot) for name, snapshot in snapshots.items()}


class IndexCache:
    """Implements `hub.PageCache`."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], blobs: BlobStore, settings: Settings
    ) -> None:
        self._sessions = sessions
        self._blobs = blobs
        self._settings = settings
        self._pages: ByteLRU[str, Entry] = ByteLRU(
            settings.page_cache_bytes, _entry_size, self._evicted_page
        )
        self._generation: dict[str, int] = {}
        self._loading: dict[str, asyncio.Future[RenderedPage | None]] = {}
        self._batch: list[str] = []  # names waiting for the next batch of renders
        self._batcher: asyncio.Task[None] | None = None
        # The documents cached for each component, dropped with its pages (and each one as the
        # LRU evicts it, so this index never outgrows the memory).
        self._docs_of: dict[str, set[str]] = {}
        # A known file and its component, by count (each is small); evictions leave _files_of.
        self._files: ByteLRU[tuple[str, str], tuple[StoredFile, str]] = ByteLRU(
            FILES_KEPT, lambda _f: 1, self._evicted_file
        )
        # The files cached for each component, dropped with its pages: a deleted file, or one
        # of a quarantined component, must stop being served from memory at once.
        self._files_of: dict[str, set[tuple[str, str]]] = {}
        self._answers: ByteLRU[tuple[str, str], Answer] = ByteLRU(
            settings.memory_file_cache_bytes, lambda a: len(a.body)
        )
        # Normalized names of every component (quarantined ones too); None until first read.
        self._known: set[str] | None = None
        self._serial = -1
        self._listeners: list[Callable[[str], None]] = []
        self._poller = Periodic("index-cache-poll", self.poll_once, settings.serial_poll_interval)

    # -- pages ---------------------------------------------------------------------------------

    def peek(self, name: str) -> RenderedPage | None:
        """The cached page, without I/O: the hot path of `/simple/{name}/`. (Only hits are
        counted here: a miss goes on to `project` or `root`, which count it.)"""
        found = self._pages.get(name)
        if isinstance(found, RenderedPage):
            metrics.cache_lookup(metrics.INDEX_PAGE, hit=True)
            return found
        return None

    def unknown(self, name: str) -> bool:
        """True when `name` (normalized) is surely no component's: answered 404 from memory.
        False while the names are not read yet, or when the name may exist."""
        return self._known is not None and name not in self._known

    async def project(self, name: str) -> RenderedPage | None:
        page = self.peek(name)
        if page is not None:
            return page
        metrics.cache_lookup(metrics.INDEX_PAGE, hit=False)
        if self.unknown(name):
            return None
        pending = self._loading.get(name)
        if pending is None:
            pending = asyncio.get_running_loop().create_future()
            self._loading[name] = pending
            self._batch.append(name)
            if self._batcher is None:
                self._batcher = asyncio.create_task(self._render_batches())
        return await asyncio.shield(pending)

    async def _render_batches(self) -> None:
        """Render the pages first requests wait for, many per query: the names asked for while
        one batch renders make the next (a cold start costs a round trip per batch, not per
        page, so first requests do not queue behind each other's renders)."""
        try:
            while self._batch:
                names, self._batch = self._batch[:BATCH], self._batch[BATCH:]
                generations = {n: self._generation.get(n, 0) for n in names}
                try:
                    async with self._sessions() as session:
                        snapshots = await services.load_projects(session, names)
                    pages = {n: _project_page(s) for n, s in snapshots.items()}
                except BaseException as exc:
                    for n in names:
                        self._settle(n, exc)
                    if not isinstance(exc, Exception):
                        raise
                    continue
                for n in names:
                    page = pages.get(n)
                    if self._generation.get(n, 0) == generations[n]:
                        if page is not None:
                            self._pages.put(n, page)
                        else:
                            self._pages.pop(n)  # never cache a 404: the name may appear
                    self._settle(n, page)
        finally:
            self._batcher = None
            for n in self._batch:  # stopped (shutdown): nobody waits forever
                self._settle(n, RuntimeError("the index cache stopped"))
            self._batch = []

    def _settle(self, name: str, outcome: RenderedPage | BaseException | None) -> None:
        future = self._loading.pop(name, None)
        if future is None or future.done():
            return
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
            future.exception()  # retrieved: the waiters get it; no "never retrieved" warning
        else:
            future.set_result(outcome)

    async def root(self) -> RenderedPage:
        page = self.peek(ROOT)
        if page is None:
            metrics.cache_lookup(metrics.INDEX_PAGE, hit=False)
        if page is None:
            page = await self._load(ROOT, self._render_root)
        assert page is not None
        return page

    async def _load(
        self, key: str, render_fn: Callable[[AsyncSession, str], Awaitable[RenderedPage | None]]
    ) -> RenderedPage | None:
        """Render `key` once however many requests wait for it (single flight)."""
        pending = self._loading.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[RenderedPage | None] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        try:
            generation = self._generation.get(key, 0)
            async with self._sessions() as session:
                page = await render_fn(session, key)
            if self._generation.get(key, 0) == generation:
                if page is not None:
                    self._pages.put(key, page)
                else:
                    self._pages.pop(key)  # never cache a 404: the name may appear any moment
            future.set_result(page)
            return page
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters get it, nobody is warned of it unheard
            raise
        finally:
            del self._loading[key]

    @staticmethod
    async def _render_root(session: AsyncSession, _key: str) -> RenderedPage | None:
        snapshot = await services.load_root(session)

        def build() -> RenderedPage:
            return rendered_page(
                snapshot.serial, render.root_html(snapshot), render.root_json(snapshot)
            )

        # Megabytes of HTML and JSON at 100k components, compressed too: off the event loop.
        return await asyncio.to_thread(build)

    # -- JSON documents ------------------------------------------------------------------------

    def peek_document(self, key: str) -> Answer | None:
        """A cached JSON API document (`document_key`), without I/O."""
        found = self._pages.get(DOC + key)
        return found if isinstance(found, Answer) else None

    def generation(self, name: str) -> int:
        """Read before building a document of `name`; hand it back to `put_document`."""
        return self._generation.get(name, 0)

    def put_document(self, name: str, key: str, answer: Answer, generation: int) -> None:
        """Keep a document of `name` unless `name` changed since `generation` was read. `key`
        must be canonical and start with `name` (`components/cached.py`): one entry per
        document, however its name and version were spelled."""
        if self._generation.get(name, 0) != generation:
            return
        if self._pages.put(DOC + key, answer):
            self._docs_of.setdefault(name, set()).add(DOC + key)

    def _evicted_page(self, key: str, _entry: Entry) -> None:
        if not key.startswith(DOC):
            return
        name = key[len(DOC) :].split("/", 1)[0]
        keys = self._docs_of.get(name)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._docs_of[name]

    def _evicted_file(self, key: tuple[str, str], found: tuple[StoredFile, str]) -> None:
        keys = self._files_of.get(found[1])
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._files_of[found[1]]

    # -- coherence -----------------------------------------------------------------------------

    def on_invalidate(self, listener: Callable[[str], None]) -> None:
        """Call `listener(name)` whenever `name`'s pages are dropped, here or on another
        replica: other derived pages (the web's) stay coherent by the same serial."""
        self._listeners.append(listener)

    def invalidate(self, name: str) -> None:
        for listener in self._listeners:
            listener(name)
        if self._known is not None:
            self._known.add(name)  # a change names a component that exists (or did)
        for key in (name, ROOT):
            self._generation[key] = self._generation.get(key, 0) + 1
            self._pages.pop(key)
        for key in self._docs_of.pop(name, ()):
            self._pages.pop(key)
        for file_key in self._files_of.pop(name, ()):
            self._files.pop(file_key)
            self._answers.pop(file_key)

    # -- files ---------------------------------------------------------------------------------

    async def file(self, sha256: str, filename: str) -> StoredFile | None:
        """A published file. Only positive answers are cached: files never change."""
        key = (sha256, filename)
        kept = self._files.get(key)
        if kept is not None:
            return kept[0]
        generation = self._generation.get(ROOT, 0)
        async with self._sessions() as session:
            row = await services.find_file(session, sha256, filename)
        if row is None:
            return None
        found, name = row
        if self._generation.get(ROOT, 0) == generation:  # no change raced with the read
            self._files.put(key, (found, name))
            self._files_of.setdefault(name, set()).add(key)
        return found

    def peek_file(self, sha256: str, filename: str) -> Answer | None:
        """The finished answer of a known file when it is in memory, without I/O: the download
        hot path."""
        if self._files.get((sha256, filename)) is None:  # (a hit keeps a hot file's entry)
            return None
        answer = self._answers.get((sha256, filename))
        if answer is not None:
            metrics.cache_lookup(metrics.FILE, hit=True)  # (a miss is counted by small_file)
        return answer

    async def small_file(self, digest: str, filename: str, size: int) -> Answer | None:
        """The finished answer of a small blob served as `filename`, built once and kept (LRU);
        None when the blob is too big to keep in memory."""
        if size > self._settings.memory_file_max_bytes:
            return None
        key = (digest, filename)
        answer = self._answers.get(key)
        metrics.cache_lookup(metrics.FILE, hit=answer is not None)
        if answer is None:
            answer = file_answer(digest, filename, await self._blobs.get_bytes(blob_key(digest)))
            self._answers.put(key, answer)
        return answer

    def stats(self) -> dict[str, CacheStats]:
        """Hits, misses and bytes against the budget of the page and the file memories."""
        return {"pages": self._pages.stats(), "files": self._answers.stats()}

    def usage(self) -> dict[str, metrics.CacheUsage]:
        """What each of its caches holds, for the metrics (observability/sampler.py)."""
        pages, files = self._pages.stats(), self._answers.stats()
        return {
            metrics.INDEX_PAGE: metrics.CacheUsage(pages.entries, pages.bytes, pages.budget),
            metrics.FILE: metrics.CacheUsage(files.entries, files.bytes, files.budget),
        }

    # -- coherence across replicas ---------------------------------------------------------------

    async def poll_once(self) -> None:
        async with self._sessions() as session:
            serial = await services.current_serial(session)
            if serial == self._serial:
                return
            changed = (
                await services.changed_since(session, self._serial) if self._serial >= 0 else []
            )
            known = await services.all_names(session) if self._known is None else None
        if self._serial >= 0:
            for name in changed:
                self.invalidate(name)
            self._generation[ROOT] = self._generation.get(ROOT, 0) + 1
            self._pages.pop(ROOT)
        if known is not None:
            self._known = known
        elif self._known is not None:
            self._known.update(changed)
        self._serial = serial

    async def start(self) -> None:
        await self.poll_once()
        await self.warm()
        self._poller.start()

    async def warm(self) -> int:
        """Render the project list and project pages (in name order, a batch per query, off
        the event loop) until WARM_SHARE of the page budget is used or WARM_SECONDS pass.
        Returns how many project pages it kept."""
        kept = 0
        limit = self._settings.page_cache_bytes * WARM_SHARE
        names = sorted(self._known or ())
        try:
            async with asyncio.timeout(WARM_SECONDS):
                await self.root()
                for start in range(0, len(names), BATCH):
                    if self._pages.bytes >= limit:
                        break
                    chunk = [n for n in names[start : start + BATCH] if n not in self._pages]
                    generations = {n: self._generation.get(n, 0) for n in chunk}
                    async with self._sessions() as session:
                        snapshots = await services.load_projects(session, chunk)
                    pages = await asyncio.to_thread(_render_all, snapshots)
                    for name, page in pages.items():
                        if self._generation.get(name, 0) == generations[name]:
                            kept += self._pages.put(name, page)
        except TimeoutError:
            log.warning(
                "index pages warmed for %.0f s (%d pages); the rest render on first request",
                WARM_SECONDS,
                kept,
            )
        return kept

    async def stop(self) -> None:
        await self._poller.stop()
        if self._batcher is not None:
            self._batcher.cancel()
