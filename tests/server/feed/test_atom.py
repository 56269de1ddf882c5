"""Atom feeds (RFC 4287), read by a real feed parser: new components, a component's releases,
and advisories (a withdrawal marked as such)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import feedparser
import httpx

from tests.server.advisories.conftest import advisory
from tests.server.feed.conftest import Replicas
from tests.support.governance import bearer, token_for
from tests.support.upload import problem


def parsed(
    http: httpx.Client, path: str, canonical: str | None = None
) -> feedparser.FeedParserDict:
    r = http.get(path)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(r.content)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.id and feed.feed.title and feed.feed.updated and feed.feed.author
    rels = {link.rel: link.href for link in feed.feed.links}
    assert rels["self"] == f"{http.base_url}".rstrip("/") + (canonical or path)
    assert rels["alternate"]
    for entry in feed.entries:
        assert entry.id and entry.title and entry.updated and entry.link
    assert len({e.id for e in feed.entries}) == len(feed.entries)  # ids are unique
    return feed


def test_components_and_releases_feeds(replicas: Replicas) -> None:
    jan = token_for(replicas.a, "jan")
    for version in ("1.0.0", "1.1.0"):
        replicas.publish(replicas.b, jan, "feed-atom", version)
    replicas.publish(replicas.b, jan, "feed-atom-two", "0.1.0")
    with httpx.Client(base_url=replicas.a.url, timeout=30) as http:
        r = http.post("/api/v1/components/feed-atom/1.0.0/yank", json={}, headers=bearer(jan))
        assert r.status_code == 200, r.text
        components = parsed(http, "/feeds/components.atom")
        titles = [e.title for e in components.entries]
        # newest first
        assert titles.index("feed-atom-two") < titles.index("feed-atom")
        entry = components.entries[titles.index("feed-atom")]
        assert entry.link == f"{replicas.a.url}/components/feed-atom"
        assert http.get(entry.link).status_code == 200  # the alternate link is a real page

        releases = parsed(  # any spelling of the name; the self link is the normalized one
            http,
            "/feeds/components/Feed_Atom/releases.atom",
            "/feeds/components/feed-atom/releases.atom",
        )
        assert [e.title for e in releases.entries] == [
            "feed-atom 1.1.0",
            "feed-atom 1.0.0 (yanked)",
        ]

        missing = http.get("/feeds/components/no-such-thing/releases.atom")
        assert missing.status_code == 404
        problem(missing)

        assert parsed(http, "/feeds/advisories.atom").entries == []
        body = advisory(summary="Unsafe <pickle> load")
        r = http.post("/api/v1/components/Feed_Atom/advisories", json=body, headers=bearer(jan))
        assert r.status_code == 201, r.text
        osv_id = r.json()["id"]
        entries = parsed(http, "/feeds/advisories.atom").entries
        assert [e.title for e in entries] == [f"{osv_id}: feed-atom — Unsafe <pickle> load"]
        assert entries[0].link == f"{replicas.a.url}/api/v1/advisories/{osv_id}"
        assert http.get(entries[0].link).json()["id"] == osv_id
        r = http.post(f"/api/v1/advisories/{osv_id}/withdraw", json={}, headers=bearer(jan))
        assert r.status_code == 200, r.text
        titles = [e.title for e in parsed(http, "/feeds/advisories.atom").entries]
        assert titles == [f"{osv_id}: feed-atom — Unsafe <pickle> load (withdrawn)"]


def test_control_characters_do_not_break_the_feed(replicas: Replicas) -> None:
    """XML 1.0 cannot carry most control characters even escaped: one in an advisory summary
    would make the feed unreadable for every follower."""
    kim = token_for(replicas.a, "kim")
    replicas.publish(replicas.b, kim, "feed-ctrl", "1.0.0")
    with httpx.Client(base_url=replicas.a.url, timeout=30) as http:
        body = advisory(summary="Bell\x07 and\x0b tab\x1f in the summary")
        r = http.post("/api/v1/components/feed-ctrl/advisories", json=body, headers=bearer(kim))
        assert r.status_code == 201, r.text
        osv_id = r.json()["id"]
        raw = http.get("/feeds/advisories.atom").content
        ET.fromstring(raw)  # noqa: S314 (the hub under test wrote it): a strict parser reads it
        titles = [e.title for e in parsed(http, "/feeds/advisories.atom").entries]
        assert f"{osv_id}: feed-ctrl — Bell\ufffd and\ufffd tab\ufffd in the summary" in titles
