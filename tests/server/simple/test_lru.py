"""The byte-budgeted memory behind the page and file caches: least recently used go first,
and the budget is never exceeded."""

from __future__ import annotations

import gc
import os
import tracemalloc
from collections.abc import Callable

import pytest

from pysetl_hub_server.answers import JSON_TYPE, rendered_page
from pysetl_hub_server.lru import ByteLRU
from pysetl_hub_server.simple.cache import Entry, _entry_size


def _lru(budget: int) -> ByteLRU[str, bytes]:
    return ByteLRU(budget, len)


def test_evicts_the_least_recently_used_first() -> None:
    lru = _lru(30)
    for key in "abc":
        assert lru.put(key, b"x" * 10)
    assert lru.get("a") == b"x" * 10  # "a" is now the most recent; "b" the least
    lru.put("d", b"y" * 10)
    assert "b" not in lru
    assert {k for k in "acd" if k in lru} == {"a", "c", "d"}
    stats = lru.stats()
    assert (stats.entries, stats.bytes, stats.budget, stats.evictions) == (3, 30, 30, 1)


def test_never_exceeds_the_budget() -> None:
    lru = _lru(100)
    for i in range(200):
        lru.put(f"k{i}", b"z" * (i % 37 + 1))
        assert lru.bytes <= 100
        assert lru.bytes == sum(
            len(lru.get(k) or b"") for k in [f"k{j}" for j in range(200)] if k in lru
        )


def test_an_entry_bigger_than_the_budget_is_not_kept() -> None:
    lru = _lru(10)
    lru.put("small", b"12345")
    assert lru.put("huge", b"x" * 11) is False
    assert "huge" not in lru and "small" in lru
    assert lru.bytes == 5


def test_replacing_and_popping_keep_the_count_right() -> None:
    lru = _lru(50)
    lru.put("a", b"x" * 20)
    lru.put("a", b"x" * 5)
    assert lru.bytes == 5 and len(lru) == 1
    assert lru.pop("a") == b"x" * 5
    assert lru.pop("a") is None
    assert lru.bytes == 0


def test_hits_and_misses_are_counted() -> None:
    lru = _lru(50)
    lru.put("a", b"1")
    lru.get("a")
    lru.get("a")
    lru.get("b")
    stats = lru.stats()
    assert (stats.hits, stats.misses) == (2, 1)


def test_evictions_are_reported_to_the_owner_but_pops_are_not() -> None:
    heard: list[str] = []
    lru: ByteLRU[str, bytes] = ByteLRU(20, len, lambda key, _value: heard.append(key))
    lru.put("a", b"x" * 10)
    lru.put("b", b"x" * 10)
    lru.put("a", b"y" * 10)  # replaced, not evicted
    lru.pop("a")
    assert heard == []
    lru.put("c", b"x" * 10)
    lru.put("d", b"x" * 10)
    assert heard == ["b"]


def _measured(build: Callable[[int], Entry], count: int = 400) -> tuple[int, int]:
    """(bytes tracemalloc sees `count` entries take, bytes the cache's estimate says)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        entries = [build(i) for i in range(count)]
        gc.collect()
        real = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    return real, sum(_entry_size(e) for e in entries)


def _body(i: int, size: int) -> bytes:
    return os.urandom(16) + f"{i:08d}".encode() * (size // 8)


@pytest.mark.parametrize(
    "build",
    [
        # a project page of five releases (1.6 KB of HTML, 2.7 KB of JSON), and a big one that
        # is kept gzipped too, and a JSON document
        lambda i: rendered_page(i, _body(i, 1600), _body(i + 1, 2700)),
        lambda i: rendered_page(i, _body(i, 40_000), _body(i + 1, 60_000)),
        lambda i: rendered_page(i, _body(i, 1600), _body(i + 1, 2700)).answers[JSON_TYPE],
    ],
    ids=["page", "gzipped-page", "document"],
)
def test_the_budget_counts_what_entries_really_take(build: Callable[[int], Entry]) -> None:
    """At 100k components the page cache's budget was 1.5x smaller than its memory (bodies
    alone were counted): the estimate covers what tracemalloc measures, without doubling it."""
    real, estimated = _measured(build)
    assert real <= estimated <= 1.5 * real, (real, estimated)
