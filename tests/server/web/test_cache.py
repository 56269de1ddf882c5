"""The page memo (web/cache.py): what a change drops, races, the bound, and search answers
read just after a change."""

from __future__ import annotations

import pytest

from pysetl_hub_server.web import cache
from pysetl_hub_server.web.cache import COMPONENT, PageMemo, Rendered


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(cache.time, "monotonic", c)
    return c


def page(text: str) -> Rendered:
    return Rendered.of(text)


def test_a_change_drops_that_components_pages_and_every_listing(clock: Clock) -> None:
    memo = PageMemo()
    keys = {
        "a": (COMPONENT, "a", "http://hub", "en", "page"),
        "b": (COMPONENT, "b", "http://hub", "en", "page"),
        "home": ("home", "en", "page"),
        "org": ("org", "acme", "en", "page"),
    }
    for name, key in keys.items():
        memo.put(key, page(name), memo.generation)
    memo.invalidate("a")
    assert memo.get(keys["a"]) is None and memo.get(keys["home"]) is None
    assert memo.get(keys["org"]) is None
    assert memo.get(keys["b"]) == page("b")  # another component's page stays


def test_a_render_that_raced_with_a_change_is_not_kept(clock: Clock) -> None:
    memo = PageMemo()
    started = memo.generation
    memo.invalidate("a")  # a publish landed while the page was being rendered
    memo.put(("home", "en", "page"), page("stale"), started)
    assert memo.get(("home", "en", "page")) is None
    second = memo.generation  # rendered after that change, but before the next one
    memo.invalidate("b")
    memo.put(("home", "en", "page"), page("stale too"), second)
    assert memo.get(("home", "en", "page")) is None
    memo.put(("home", "en", "page"), page("fresh"), memo.generation)
    assert memo.get(("home", "en", "page")) == page("fresh")


def test_the_memo_is_bounded_least_recently_used_first(clock: Clock) -> None:
    memo = PageMemo(max_entries=2)
    memo.put(("home", "en", "page"), page("1"), 0)
    memo.put(("home", "es", "page"), page("2"), 0)
    assert memo.get(("home", "en", "page")) is not None  # now the most recently used
    memo.put(("home", "ar", "page"), page("3"), 0)
    assert len(memo) == 2
    assert memo.get(("home", "es", "page")) is None
    assert memo.get(("home", "en", "page")) is not None


def test_search_answers_read_just_after_a_change_live_only_until_things_settle(
    clock: Clock,
) -> None:
    memo = PageMemo(settle=3.0)
    key = ("search", "q=csv", "en", "partial")
    memo.put(key, page("before any change"), memo.generation)
    clock.now += 3600
    assert memo.get(key) is not None  # no change: kept as long as it is used
    memo.invalidate("csv-dedupe")
    assert memo.get(key) is None
    memo.put(key, page("maybe before the engine indexed it"), memo.generation)
    clock.now += 2.9
    assert memo.get(key) is not None
    clock.now += 0.2
    assert memo.get(key) is None  # read within the settling time: dropped with it
    memo.put(key, page("after"), memo.generation)
    clock.now += 3600
    assert memo.get(key) == page("after")  # read after it: kept until the next change


def test_listings_read_just_after_a_change_settle_but_component_pages_do_not(
    clock: Clock,
) -> None:
    """The web memo's set-up (app.web_memo): a home page rendered before another replica's
    indexer wrote the search documents must not stay until the next change."""
    memo = PageMemo(settle=3.0, settle_components=False)
    memo.invalidate("csv-dedupe")
    home, own = ("home", "en", "page"), (COMPONENT, "csv-dedupe", "http://hub", "en", "page")
    memo.put(home, page("maybe stale cards"), memo.generation)
    memo.put(own, page("read from the tables the change wrote"), memo.generation)
    clock.now += 3.1
    assert memo.get(home) is None
    assert memo.get(own) is not None


def test_an_etag_names_the_bytes() -> None:
    assert page("x").body == b"x"
    assert page("x").etag == page("x").etag != page("y").etag
    assert page("x").etag.startswith('"') and page("x").etag.endswith('"')
