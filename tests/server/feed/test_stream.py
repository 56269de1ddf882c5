"""Live changes over Server-Sent Events, across replicas: a client streams from replica a
while changes are published through replica b (same database); it resumes with Last-Event-ID
and gets exactly what it missed; quiet streams carry heartbeats."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.server.feed.conftest import Event, Replicas, sse_events
from tests.support.governance import bearer, token_for


def changes_after(url: str, since: int) -> list[dict[str, object]]:
    with httpx.Client(base_url=url, timeout=30) as http:
        return list(http.get("/api/v1/changes", params={"since": since}).json()["changes"])


def data_events(events: Iterator[Event], count: int, deadline: float) -> list[Event]:
    found: list[Event] = []
    for event in events:
        if event.data:
            found.append(event)
            if len(found) == count:
                return found
        assert time.monotonic() < deadline, f"only {len(found)} of {count} events arrived"
    raise AssertionError("the stream ended early")


def test_stream_across_replicas_resume_and_heartbeat(replicas: Replicas) -> None:
    carol = token_for(replicas.b, "carol")
    with httpx.Client(base_url=replicas.a.url, timeout=30) as http:
        head = http.get("/api/v1/changes", params={"since": 0, "limit": 1000}).json()["next"]
        with http.stream("GET", "/api/v1/changes/stream", params={"since": head}) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            events = sse_events(stream.iter_lines())
            next(events)  # the opening `retry:` advice: the stream is open
            publisher = threading.Thread(
                target=replicas.publish, args=(replicas.b, carol, "feed-live", "1.0.0")
            )
            publisher.start()
            live = data_events(events, 3, time.monotonic() + 20)
            publisher.join()
            heard = [json.loads(e.data) for e in live]
            assert [c["action"] for c in heard] == [
                "component.create",
                "release.create",
                "file.upload",
            ]
            assert all(c["component"] == "feed-live" for c in heard)
            assert [e.id for e in live] == [str(c["serial"]) for c in heard]
            # Nothing more happens: a heartbeat comment keeps the connection alive.
            quiet = time.monotonic()
            for event in events:
                assert not event.data, "no change was made, so none may arrive"
                if "heartbeat" in event.comments:
                    break
            assert time.monotonic() - quiet < 5
        last_seen = int(live[-1].id or 0)

    # Disconnected, the client misses a yank and a new release, made through replica b.
    with httpx.Client(base_url=replicas.b.url, timeout=30) as http:
        r = http.post("/api/v1/components/feed-live/1.0.0/yank", headers=bearer(carol), json={})
        assert r.status_code == 200, r.text
    replicas.publish(replicas.b, carol, "feed-live", "2.0.0")
    missed = changes_after(replicas.a.url, last_seen)
    assert [c["action"] for c in missed] == ["release.yank", "release.create", "file.upload"]

    with (
        httpx.Client(base_url=replicas.a.url, timeout=30) as http,
        http.stream(
            "GET", "/api/v1/changes/stream", headers={"Last-Event-ID": str(last_seen)}
        ) as stream,
    ):
        resumed = data_events(sse_events(stream.iter_lines()), 3, time.monotonic() + 20)
    assert [json.loads(e.data) for e in resumed] == missed
    assert [int(e.id or 0) for e in resumed] == [c["serial"] for c in missed]


@pytest.mark.parametrize(
    "value",
    ["abc", str(2**63), "9" * 5000],  # past the serial column, past int()
)
def test_a_bad_last_event_id_is_a_400(replicas: Replicas, value: str) -> None:
    with httpx.Client(base_url=replicas.a.url, timeout=30) as http:
        r = http.get("/api/v1/changes/stream", headers={"Last-Event-ID": value})
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "Last-Event-ID" in r.json()["detail"]


def test_a_since_past_the_serial_column_is_a_400(replicas: Replicas) -> None:
    with httpx.Client(base_url=replicas.a.url, timeout=30) as http:
        r = http.get("/api/v1/changes/stream", params={"since": 2**63})
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
