"""A least-recently-used memory with a byte budget, and the counts an operator watches.

A leaf shared by the caches of several domains (index pages, search answers) and named by the
`Hub` protocols, so it imports nothing of the hub. The index cache keeps pages, JSON documents
and small files in memory; the catalogue may be far
bigger than the memory a replica should spend on it, so every store is bounded by bytes (not
entries: one page is a few hundred bytes, another a few megabytes) and the least recently used
entries go first. The budget is never exceeded: an entry bigger than the whole budget is not
kept at all. An owner that indexes the entries elsewhere (the documents of a component) hears of
each eviction (`on_evict`), so its index shrinks with the memory.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class CacheStats:
    """What `/metrics` exports of one cache: hit ratio, and memory against its budget."""

    hits: int
    misses: int
    entries: int
    bytes: int
    budget: int
    evictions: int


class ByteLRU(Generic[K, V]):
    """`size(value)` says how many bytes an entry holds; `on_evict(key, value)` is called for
    each entry dropped to make room (not for `pop` or `clear`: their caller knows)."""

    def __init__(
        self,
        budget: int,
        size: Callable[[V], int],
        on_evict: Callable[[K, V], None] | None = None,
    ) -> None:
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._size = size
        self._on_evict = on_evict
        self.budget = budget
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    def get(self, key: K) -> V | None:
        found = self._entries.get(key)
        if found is None:
            self.misses += 1
            return None
        self.hits += 1
        self._entries.move_to_end(key)
        return found[0]

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def put(self, key: K, value: V) -> bool:
        """Keep `value` (False when it alone is bigger than the budget), evicting the least
        recently used entries until everything fits."""
        self.pop(key)
        size = self._size(value)
        if size > self.budget:
            return False
        self._entries[key] = (value, size)
        self.bytes += size
        while self.bytes > self.budget:
            old_key, (old_value, dropped) = self._entries.popitem(last=False)
            self.bytes -= dropped
            self.evictions += 1
            if self._on_evict is not None:
                self._on_evict(old_key, old_value)
        return True

    def pop(self, key: K) -> V | None:
        found = self._entries.pop(key, None)
        if found is None:
            return None
        self.bytes -= found[1]
        return found[0]

    def clear(self) -> None:
        self._entries.clear()
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def stats(self) -> CacheStats:
        return CacheStats(
            self.hits, self.misses, len(self._entries), self.bytes, self.budget, self.evictions
        )
