"""The byte-budgeted memory behind the page and file caches: least recently used go first,
and the budget is never exceeded."""

from __future__ import annotations

from pysetl_hub_server.lru import ByteLRU


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
