"""Rendered public pages, kept like the index pages: derived data, rendered once per change.

An entry is the finished body of an anonymous visitor's page in one language, with its ETag.
A change to a component drops that component's pages and every page that lists components
(home, organization and user pages); the index cache tells us of changes made here and, by the
serial it polls, of changes made on other replicas. A render that raced with a change is not
stored (the generation moved). The number of entries is bounded (least recently used go).
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Final

from pysetl_hub_server.observability import metrics

COMPONENT: Final = "component"  # keys ("component", name, language, ...) belong to one name
# Seconds after a change during which search answers are kept only that long: the engine may
# index the change (here or on another replica) a moment after this replica heard of it.
SEARCH_SETTLE: Final = 3.0


@dataclass(frozen=True, slots=True)
class Rendered:
    body: bytes
    etag: str

    @classmethod
    def of(cls, html: str) -> Rendered:
        body = html.encode()
        return cls(body, '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"')


Key = tuple[str, ...]


def anonymous_headers(language: str, etag: str | None) -> dict[str, str]:
    """The headers of a page an anonymous visitor gets, whichever layer answers it."""
    headers = {
        "Content-Language": language,
        "Vary": "Accept-Language, Cookie, HX-Request",
        "Cache-Control": "no-cache",  # revalidate by ETag: pages change on publish
    }
    if etag:
        headers["ETag"] = etag
    return headers


class PageMemo:
    """`settle`: seconds after a change during which a new entry is kept only that long. Search
    answers need it: the engine indexes a change a moment after it is announced (and perhaps
    on another replica), so an answer read in that moment may predate it. So do the listing
    pages (home, organization, user: their cards are the search documents), but not a
    component's own page, read from the tables the change wrote (`settle_components=False`).
    An entry made after things settled lives until the next change."""

    def __init__(
        self,
        max_entries: int = 4096,
        settle: float | None = None,
        kind: str = metrics.WEB_PAGE,
        *,
        settle_components: bool = True,
    ) -> None:
        self.kind = kind  # the metrics' `cache` label
        self._entries: OrderedDict[Key, tuple[Rendered, float]] = OrderedDict()  # page, expiry
        self._max = max_entries
        self._settle = settle
        self._settle_components = settle_components
        self._settled_at = 0.0
        self.generation = 0

    def get(self, key: Key, *, count_miss: bool = True) -> Rendered | None:
        """The page under `key`; `count_miss=False` where a miss goes on to a handler that
        looks again (the hot path), so each miss is counted once."""
        found = self._entries.get(key)
        if found is None or time.monotonic() > found[1]:
            if count_miss:
                metrics.cache_lookup(self.kind, hit=False)
            return None
        self._entries.move_to_end(key)
        metrics.cache_lookup(self.kind, hit=True)
        return found[0]

    def put(self, key: Key, page: Rendered, generation: int) -> None:
        """Keep `page` unless a change happened since `generation` was read."""
        if generation != self.generation:
            return
        now = time.monotonic()
        settling = self._settle_components or key[0] != COMPONENT
        expiry = (
            now + self._settle if self._settle and now < self._settled_at and settling else math.inf
        )
        self._entries[key] = (page, expiry)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def invalidate(self, name: str) -> None:
        """`name` changed: its own pages and every listing go."""
        self.generation += 1
        if self._settle:
            self._settled_at = time.monotonic() + self._settle
        for key in list(self._entries):
            if key[0] != COMPONENT or key[1] == name:
                del self._entries[key]

    def usage(self) -> metrics.CacheUsage:
        return metrics.CacheUsage(
            len(self._entries), sum(len(page.body) for page, _ in self._entries.values())
        )

    def __len__(self) -> int:
        return len(self._entries)
