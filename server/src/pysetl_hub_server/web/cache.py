"""Rendered public pages, kept like the index pages: derived data, rendered once per change.

An entry is the finished body of an anonymous visitor's page in one language, with its ETag.
A change to a component drops that component's pages and every page that lists components
(home, organization and user pages); the index cache tells us of changes made here and, by the
serial it polls, of changes made on other replicas. A render that raced with a change is not
stored (the generation moved). The number of entries is bounded (least recently used go).
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Final

COMPONENT: Final = "component"  # keys ("component", name, language, ...) belong to one name
# Seconds a search answer may be reused at most: a backstop for a change indexed by another
# replica just after this one dropped its answers (each replica drops them on every change it
# sees and on every change it indexes itself).
SEARCH_TTL: Final = 30.0


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
    """`ttl`: seconds an entry may live even without a change (search answers, whose engine
    catches up with a publish a moment after the change is announced)."""

    def __init__(self, max_entries: int = 4096, ttl: float | None = None) -> None:
        self._entries: OrderedDict[Key, tuple[Rendered, float]] = OrderedDict()
        self._max = max_entries
        self._ttl = ttl
        self.generation = 0
        self.hits = 0
        self.misses = 0

    def get(self, key: Key) -> Rendered | None:
        found = self._entries.get(key)
        if found is None or (self._ttl is not None and time.monotonic() - found[1] > self._ttl):
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return found[0]

    def put(self, key: Key, page: Rendered, generation: int) -> None:
        """Keep `page` unless a change happened since `generation` was read."""
        if generation != self.generation:
            return
        self._entries[key] = (page, time.monotonic())
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def invalidate(self, name: str) -> None:
        """`name` changed: its own pages and every listing go."""
        self.generation += 1
        for key in list(self._entries):
            if key[0] != COMPONENT or key[1] == name:
                del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)
