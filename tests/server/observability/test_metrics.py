"""/metrics on a live hub: the token gate, and the counters that move when the hub works.

One hub (SQLite) for the module; each test reads the counters before and after what it does,
so tests do not depend on each other's traffic."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import start_hub
from tests.server.test_hotpath import settle
from tests.support import sigstore_instance as sig
from tests.support.dists import repack
from tests.support.live import LiveServer
from tests.support.scrape import Samples, scrape, value
from tests.support.sigstore_instance import Signing, SigstoreInstance
from tests.support.upload import problem, upload

TOKEN = "metrics-" + uuid.uuid4().hex
LATENCY = "pysetl_hub_http_request_duration_seconds_count"
PUBLISH = "pysetl_hub_publish_outcomes_total"
ATTEST = "pysetl_hub_attestation_verifications_total"
LOOKUPS = "pysetl_hub_cache_lookups_total"
HONEST = Signing(sig.github("acme/metrics", "release.yml"))
PUBLISHER = {"kind": "github", "repository": "acme/metrics", "workflow": "release.yml"}


@pytest.fixture(scope="module")
def hub(
    tmp_path_factory: pytest.TempPathFactory, sigstore: SigstoreInstance
) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("metrics-hub")
    server = start_hub(
        tmp,
        f"sqlite+aiosqlite:///{tmp / 'hub.sqlite3'}",
        sigstore_trust_root=sigstore.trusted_root,
        metrics_token=TOKEN,
        download_flush_interval=0.2,
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def alice(hub: LiveServer) -> str:
    return hub.user_with_token("alice")


@pytest.fixture
def http(hub: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=hub.url, timeout=30) as client:
        yield client


def fresh(example_dists: dict[str, Path], tmp_path: Path, version: str = "1.0.0") -> Path:
    name = f"metrics-{uuid.uuid4().hex[:10]}"
    return repack(example_dists["csv-dedupe:wheel"], tmp_path / name, name=name, version=version)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def test_the_token_gate(tmp_path: Path, hub: LiveServer, http: httpx.Client) -> None:
    """Unset: 404 problem. Set: 401 problem without the right bearer token, 200 with it."""
    off = start_hub(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'off.sqlite3'}")
    try:
        r = httpx.get(f"{off.url}/metrics", headers={"Authorization": "Bearer anything"})
        assert r.status_code == 404 and problem(r)["code"] == "metrics.off"
    finally:
        off.stop()
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
        {"Authorization": "Bearer"},
    ):
        r = http.get("/metrics", headers=headers)
        assert r.status_code == 401, headers
        assert problem(r)["code"] == "metrics.token"
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert TOKEN not in r.text
    r = http.get("/metrics", headers={"Authorization": f"bearer {TOKEN}"})
    assert r.status_code == 200 and "pysetl_hub_http_request_duration_seconds" in r.text


def test_requests_are_timed_by_route_template(
    hub: LiveServer, alice: str, http: httpx.Client, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    """Routed and hot-path answers alike, labelled by template (never the raw path); a path no
    route knows is `unmatched`."""
    wheel = fresh(example_dists, tmp_path)
    name = wheel.name.split("-")[0].replace("_", "-")
    assert upload(http, alice, wheel).status_code == 200
    settle(hub)  # a late poll of the serial would drop the page between the two GETs
    before = scrape(http, TOKEN)
    assert http.get(f"/simple/{name}/").status_code == 200  # rendered by the app, cached
    assert http.get(f"/simple/{name}/").status_code == 200  # from memory (the hot path)
    for _ in range(2):  # rendered by the app, then (the documents are cached) from memory
        assert http.get(f"/api/v1/components/{name}").status_code == 200
        assert http.get(f"/api/v1/components/{name}/1.0.0").status_code == 200
    for i in range(3):
        assert http.get(f"/no/such/page/{i}").status_code == 404
    after = scrape(http, TOKEN)
    simple = {"route": "/simple/{name}", "method": "GET", "status": "2xx"}
    assert moved(before, after, LATENCY, **simple) == 2
    api = {"route": "/api/v1/components/{name}", "method": "GET", "status": "2xx"}
    assert moved(before, after, LATENCY, **api) == 2
    release = {**api, "route": "/api/v1/components/{name}/{version}"}
    assert moved(before, after, LATENCY, **release) == 2
    lost = {"route": "unmatched", "method": "GET", "status": "4xx"}
    assert moved(before, after, LATENCY, **lost) == 3
    routes = {dict(labels)["route"] for (n, labels) in after if n == LATENCY}
    assert not any(name in route or "/no/such" in route for route in routes), routes
    # the index page: a miss (rendered), then a hit from memory
    assert moved(before, after, LOOKUPS, cache="index_page", result="miss") >= 1
    assert moved(before, after, LOOKUPS, cache="index_page", result="hit") >= 1


def test_publish_outcomes_by_code(
    hub: LiveServer, alice: str, http: httpx.Client, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    wheel = fresh(example_dists, tmp_path)
    before = scrape(http, TOKEN)
    assert upload(http, alice, wheel).status_code == 200
    assert upload(http, alice, wheel).status_code == 200  # the same bytes again: a no-op
    refused = upload(http, alice, wheel, content=b"not a zip at all")
    code = problem(refused)["code"]
    assert upload(http, "pshub_0000000000000000_" + "x" * 43, wheel).status_code == 401
    after = scrape(http, TOKEN)
    assert moved(before, after, PUBLISH, outcome="accepted", code="created") == 1
    assert moved(before, after, PUBLISH, outcome="accepted", code="unchanged") == 1
    assert moved(before, after, PUBLISH, outcome="refused", code=code) == 1
    unauthorized = [
        moved(before, after, PUBLISH, outcome="refused", code=dict(labels)["code"])
        for (n, labels) in after
        if n == PUBLISH and dict(labels)["code"].startswith("auth")
    ]
    assert sum(unauthorized) == 1, after
    assert moved(before, after, ATTEST, result="none", reason="") == 1  # the created upload


def test_attestation_outcomes(
    hub: LiveServer, alice: str, http: httpx.Client, sigstore: SigstoreInstance,
    example_dists: dict[str, Path], tmp_path: Path,
) -> None:  # fmt: skip
    wheel = fresh(example_dists, tmp_path)
    name = wheel.name.split("-")[0].replace("_", "-")
    auth = {"Authorization": f"Bearer {alice}"}
    r = http.post(f"/api/v1/components/{name}/publishers", json=PUBLISHER, headers=auth)
    assert r.status_code == 201, r.text
    before = scrape(http, TOKEN)
    other = Signing(sig.github("mallory/metrics", "release.yml"))
    bad = upload(http, alice, wheel, attestations=json.dumps([sigstore.attest(wheel, other)]))
    reason = problem(bad)["code"]
    assert reason.startswith("attestation.")
    garbled = upload(http, alice, wheel, attestations="not json")
    assert problem(garbled)["code"] == "attestation.format"
    good = upload(http, alice, wheel, attestations=json.dumps([sigstore.attest(wheel, HONEST)]))
    assert good.status_code == 200, good.text
    after = scrape(http, TOKEN)
    assert moved(before, after, ATTEST, result="refused", reason=reason) == 1
    assert moved(before, after, ATTEST, result="refused", reason="attestation.format") == 1
    assert moved(before, after, ATTEST, result="verified", reason="") == 1
    assert moved(before, after, PUBLISH, outcome="refused", code=reason) == 1


def test_downloads_cache_and_flushes(
    hub: LiveServer, alice: str, http: httpx.Client, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    wheel = fresh(example_dists, tmp_path)
    assert upload(http, alice, wheel).status_code == 200
    url = upload_url(http, wheel)
    settle(hub)  # a late poll of the serial would drop the file from memory between the GETs
    before = scrape(http, TOKEN)
    for _ in range(3):
        r = http.get(url)
        assert r.status_code == 200 and r.content == wheel.read_bytes()
    deadline = time.monotonic() + 10
    while True:  # the counts are flushed every 0.2 s
        after = scrape(http, TOKEN)
        if moved(before, after, "pysetl_hub_download_flush_rows_total") >= 1:
            break
        assert time.monotonic() < deadline, "no download flush was counted"
        time.sleep(0.1)
    assert moved(before, after, "pysetl_hub_download_flushes_total", result="ok") >= 1
    assert moved(before, after, LOOKUPS, cache="file", result="miss") == 1  # then in memory
    assert moved(before, after, LOOKUPS, cache="file", result="hit") == 2
    files = {"route": "/files/{sha256}/{filename}", "method": "GET", "status": "2xx"}
    assert moved(before, after, LATENCY, **files) == 3
    assert value(after, "pysetl_hub_cache_bytes", cache="file") >= wheel.stat().st_size
    assert value(after, "pysetl_hub_cache_budget_bytes", cache="file") == (
        hub.settings.memory_file_cache_bytes
    )
    assert value(after, "pysetl_hub_cache_entries", cache="file") >= 1


def upload_url(http: httpx.Client, wheel: Path) -> str:
    name = wheel.name.split("-")[0].replace("_", "-")
    page = http.get(f"/simple/{name}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    (found,) = [f for f in page.json()["files"] if f["filename"] == wheel.name]
    url: str = found["url"]
    return url


def test_search_outbox_serial_and_search_pages(
    hub: LiveServer, alice: str, http: httpx.Client, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    """The outbox drains to 0 after a publish, the serial moves; search pages are counted."""
    before = scrape(http, TOKEN)
    wheel = fresh(example_dists, tmp_path)
    name = wheel.name.split("-")[0].replace("_", "-")
    assert upload(http, alice, wheel).status_code == 200
    deadline = time.monotonic() + 10
    while not any(h["name"] == name for h in http.get(f"/api/v1/search?q={name}").json()["hits"]):
        assert time.monotonic() < deadline, "search did not index the upload"
        time.sleep(0.05)
    for _ in range(10):  # the web page twice: a miss, then a hit (unless a reindex of other
        # tests' download counts dropped the memo in between: then again)
        for _ in range(2):
            assert http.get("/search", params={"q": name}).status_code == 200
        after = scrape(http, TOKEN)
        if moved(before, after, LOOKUPS, cache="search_page", result="hit") >= 1:
            break
    assert value(after, "pysetl_hub_index_serial") > value(before, "pysetl_hub_index_serial")
    assert value(after, "pysetl_hub_search_outbox_pending") == 0
    assert value(after, "pysetl_hub_search_outbox_oldest_age_seconds") == 0
    search = {"route": "/api/v1/search", "method": "GET", "status": "2xx"}
    assert moved(before, after, LATENCY, **search) >= 1
    assert moved(before, after, LOOKUPS, cache="search_page", result="miss") >= 1
    assert moved(before, after, LOOKUPS, cache="search_page", result="hit") >= 1
    pool = ("pysetl_hub_db_pool_connections", frozenset({("state", "size")}))
    assert after[pool] >= 1  # the scrape itself used a pooled connection
    assert value(after, "pysetl_hub_db_pool_connections", state="checked_out") >= 0


def test_outbox_lag_is_seen(hub: LiveServer, http: httpx.Client) -> None:
    """Rows waiting in the outbox show as pending, with the age of the oldest."""
    from datetime import UTC, datetime, timedelta

    from pysetl_hub_server.db.models import SearchOutbox
    from pysetl_hub_server.hub import Hub

    async def stall(h: Hub) -> None:
        async with h.sessions() as s, s.begin():
            old = datetime.now(UTC) - timedelta(minutes=5)
            s.add(SearchOutbox(component="no-such-component", created=old))

    # The server's indexer may apply the row any moment: read it before that, or accept that
    # it was applied (pending back to 0) and try again.
    for _ in range(20):
        hub.run(stall)
        samples = scrape(http, TOKEN)
        if value(samples, "pysetl_hub_search_outbox_pending") >= 1:
            assert value(samples, "pysetl_hub_search_outbox_oldest_age_seconds") >= 290
            return
    pytest.fail("the outbox row was never seen pending")


def test_kept_search_answers_are_reported_against_their_budget(
    hub: LiveServer, http: httpx.Client
) -> None:
    from pysetl_hub_server.search.answers import BUDGET

    assert http.get("/api/v1/search", params={"q": "metrics-budget"}).status_code == 200
    after = scrape(http, TOKEN)  # a scrape samples the gauges
    assert value(after, "pysetl_hub_cache_budget_bytes", cache="search_answer") == BUDGET
    assert value(after, "pysetl_hub_cache_entries", cache="search_answer") >= 1
    assert value(after, "pysetl_hub_cache_bytes", cache="search_answer") > 0
