"""In-memory index pages and hot files, kept coherent across replicas by the DB serial.

Each change moves a serial forward in the database (the audit journal). The process that made
the change drops its own entries at once; every replica also polls the highest serial and
drops the pages of components that changed since it last looked. A per-name generation counter
stops a render that raced with a change from storing a stale page.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pysetl_hub_server.answers import (
    Answer,
    RenderedPage,
    StoredFile,
    file_answer,
    rendered_page,
)
from pysetl_hub_server.hub import ROOT
from pysetl_hub_server.observability import metrics
from pysetl_hub_server.periodic import Periodic
from pysetl_hub_server.settings import Settings
from pysetl_hub_server.simple import render, services
from pysetl_hub_server.storage.blobs import BlobStore, blob_key

log = logging.getLogger(__name__)


class IndexCache:
    """Implements `hub.PageCache`."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], blobs: BlobStore, settings: Settings
    ) -> None:
        self._sessions = sessions
        self._blobs = blobs
        self._settings = settings
        self._pages: dict[str, RenderedPage | None] = {}
        self._generation: dict[str, int] = {}
        self._files: dict[tuple[str, str], StoredFile] = {}
        # The files cached for each component, dropped with its pages: a deleted file, or one
        # of a quarantined component, must stop being served from memory at once.
        self._files_of: dict[str, set[tuple[str, str]]] = {}
        self._answers: OrderedDict[tuple[str, str], Answer] = OrderedDict()
        self._answers_total = 0
        self._serial = -1
        self._listeners: list[Callable[[str], None]] = []
        self._poller = Periodic("index-cache-poll", self.poll_once, settings.serial_poll_interval)

    # -- pages ---------------------------------------------------------------------------------

    def peek(self, name: str) -> RenderedPage | None:
        """The cached page, without I/O: the hot path of `/simple/{name}/`. (Only hits are
        counted here: a miss goes on to `project` or `root`, which count it.)"""
        page = self._pages.get(name)
        if page is not None:
            metrics.cache_lookup(metrics.INDEX_PAGE, hit=True)
        return page

    async def project(self, name: str) -> RenderedPage | None:
        if name in self._pages:
            metrics.cache_lookup(metrics.INDEX_PAGE, hit=True)
            return self._pages[name]
        metrics.cache_lookup(metrics.INDEX_PAGE, hit=False)
        return await self._load(name, self._render_project)

    async def root(self) -> RenderedPage:
        page = self._pages.get(ROOT)
        metrics.cache_lookup(metrics.INDEX_PAGE, hit=page is not None)
        if page is None:
            page = await self._load(ROOT, self._render_root)
        assert page is not None
        return page

    async def _load(
        self, key: str, render_fn: Callable[[AsyncSession, str], Awaitable[RenderedPage | None]]
    ) -> RenderedPage | None:
        generation = self._generation.get(key, 0)
        async with self._sessions() as session:
            page = await render_fn(session, key)
        if self._generation.get(key, 0) == generation:
            if page is not None:
                self._pages[key] = page
            else:
                self._pages.pop(key, None)  # never cache a 404: the name may appear any moment
        return page

    @staticmethod
    async def _render_project(session: AsyncSession, name: str) -> RenderedPage | None:
        snapshot = await services.load_project(session, name)
        if snapshot is None:
            return None
        return rendered_page(
            snapshot.serial, render.project_html(snapshot), render.project_json(snapshot)
        )

    @staticmethod
    async def _render_root(session: AsyncSession, _key: str) -> RenderedPage | None:
        snapshot = await services.load_root(session)
        return rendered_page(
            snapshot.serial, render.root_html(snapshot), render.root_json(snapshot)
        )

    def on_invalidate(self, listener: Callable[[str], None]) -> None:
        """Call `listener(name)` whenever `name`'s pages are dropped, here or on another
        replica: other derived pages (the web's) stay coherent by the same serial."""
        self._listeners.append(listener)

    def invalidate(self, name: str) -> None:
        for listener in self._listeners:
            listener(name)
        for key in (name, ROOT):
            self._generation[key] = self._generation.get(key, 0) + 1
            self._pages.pop(key, None)
        for file_key in self._files_of.pop(name, ()):
            self._files.pop(file_key, None)
            answer = self._answers.pop(file_key, None)
            if answer is not None:
                self._answers_total -= len(answer.body)

    # -- files ---------------------------------------------------------------------------------

    async def file(self, sha256: str, filename: str) -> StoredFile | None:
        """A published file. Only positive answers are cached: files never change."""
        key = (sha256, filename)
        found = self._files.get(key)
        if found is None:
            generation = self._generation.get(ROOT, 0)
            async with self._sessions() as session:
                row = await services.find_file(session, sha256, filename)
            if row is None:
                return None
            found, name = row
            if self._generation.get(ROOT, 0) == generation:  # no change raced with the read
                self._files[key] = found
                self._files_of.setdefault(name, set()).add(key)
        return found

    def peek_file(self, sha256: str, filename: str) -> Answer | None:
        """The finished answer of a known file when it is in memory, without I/O: the download
        hot path."""
        if (sha256, filename) not in self._files:
            return None
        answer = self._answers.get((sha256, filename))
        if answer is not None:
            self._answers.move_to_end((sha256, filename))
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
        if answer is not None:
            self._answers.move_to_end(key)
            return answer
        answer = file_answer(digest, filename, await self._blobs.get_bytes(blob_key(digest)))
        self._answers[key] = answer
        self._answers_total += len(answer.body)
        while self._answers_total > self._settings.memory_file_cache_bytes and self._answers:
            _, dropped = self._answers.popitem(last=False)
            self._answers_total -= len(dropped.body)
        return answer

    def usage(self) -> dict[str, metrics.CacheUsage]:
        """What each of its caches holds, for the metrics (observability/sampler.py)."""
        # Pages: entries only; summing every page's bytes would cost ~1 ms per 1,000 pages.
        pages = len(self._pages)
        return {
            metrics.INDEX_PAGE: metrics.CacheUsage(pages),
            metrics.FILE: metrics.CacheUsage(
                len(self._answers), self._answers_total, self._settings.memory_file_cache_bytes
            ),
        }

    # -- coherence across replicas ---------------------------------------------------------------

    async def poll_once(self) -> None:
        async with self._sessions() as session:
            serial = await services.current_serial(session)
            if serial == self._serial:
                return
            changed = await services.changed_since(session, max(self._serial, 0))
        if self._serial >= 0:
            for name in changed:
                self.invalidate(name)
            self._generation[ROOT] = self._generation.get(ROOT, 0) + 1
            self._pages.pop(ROOT, None)
        self._serial = serial

    async def start(self) -> None:
        await self.poll_once()
        self._poller.start()

    async def stop(self) -> None:
        await self._poller.stop()
