"""What keeps the cost flat as the catalogue grows (issue 14 section 5), as behaviour: unknown
names refused from memory and learnt from the serial, the project list compressed and
negotiated, JSON API documents cached and dropped on every change, here and on a replica,
first requests rendered in batches, the budgets reported."""

from __future__ import annotations

import gc
import gzip
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, insert, select

from pysetl_hub_server.db import models
from pysetl_hub_server.hotpath import HotPath
from pysetl_hub_server.hub import ROOT, Hub
from pysetl_hub_server.settings import Settings
from pysetl_hub_server.simple.cache import WARM_SHARE
from tests.conftest import start_hub
from tests.support.live import LiveServer
from tests.support.upload import upload

JSON = "application/vnd.pypi.simple.v1+json"
VOLATILE = {"date", "server", "x-request-id"}  # x-request-id: one per request
FILLER = 300  # components without files, so the project list is big enough to compress


def eventually(check: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "did not happen in time"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two replicas on one SQLite database (one module: they are slow to start)."""
    base = tmp_path_factory.mktemp("scale")
    url = f"sqlite+aiosqlite:///{base / 'hub.sqlite3'}"
    a = start_hub(base / "a", url)
    b = start_hub(base / "b", url)
    yield a, b
    a.stop()
    b.stop()


@pytest.fixture(scope="module")
def published(pair: tuple[LiveServer, LiveServer], example_dists: dict[str, Path]) -> str:
    a, _b = pair
    token = a.user_with_token("alice")
    with httpx.Client(base_url=a.url, timeout=30) as http:
        for key in ("csv-dedupe:wheel", "daily-sales-pipeline:wheel"):
            assert upload(http, token, example_dists[key]).status_code == 200

    async def filler(hub: Hub) -> None:
        async with hub.sessions() as session, session.begin():
            await session.execute(
                insert(models.Component),
                [
                    {"name": f"filler-{i:04d}", "display_name": f"Filler-{i:04d}"}
                    for i in range(FILLER)
                ],
            )

    a.run(filler)
    for live in pair:  # the rows went in without a serial: drop the cached project lists
        live.hub.cache.invalidate("filler-0000")

    async def outbox(hub: Hub) -> int:
        async with hub.sessions() as session:
            return int(
                await session.scalar(select(func.count()).select_from(models.SearchOutbox)) or 0
            )

    # The indexer's work after the publishes (search documents, quality scores) is done before
    # the tests count the statements their own requests run.
    eventually(lambda: a.run(outbox) == 0)
    return token


# What the replica's own timers run whatever the test does: the serial poll (and its read of
# what changed), the search outbox sweep and the search version check.
# The timers' statements: the serial poll, the search outbox, and the webhook fan-out (which
# reads new audit events and claims deliveries).
BACKGROUND = (
    "max(audit_events.id)",
    "last_serial >",
    "search_outbox",
    "search_version",
    "webhook_cursor",
    "webhook_deliveries",
    "audit_events.action IN",
)


@pytest.fixture
def queries(pair: tuple[LiveServer, LiveServer]) -> Iterator[list[str]]:
    """The statements replica a runs for the test's requests (its timers' left out)."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        if not any(mark in statement for mark in BACKGROUND):
            seen.append(f"{statement} -- {parameters!r}")

    engine = pair[0].hub.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    yield seen
    event.remove(engine, "before_cursor_execute", count)


def _hot(live: LiveServer) -> HotPath:
    return HotPath(lambda *_: None, live.hub.cache, live.hub.downloads)  # type: ignore[arg-type, return-value]


def _scope(path: str, **headers: str) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": b"",
        "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()],
    }


def _seen(r: httpx.Response) -> tuple[int, dict[str, str], bytes]:
    return r.status_code, {k: v for k, v in r.headers.items() if k not in VOLATILE}, r.content


# -- unknown names ------------------------------------------------------------------------------


def test_unknown_names_are_refused_from_memory(
    pair: tuple[LiveServer, LiveServer], published: str, queries: list[str]
) -> None:
    a, _b = pair
    with httpx.Client(base_url=a.url) as http:
        # The app's own 404 (a query string sends the request past the hot path) ...
        app = http.get("/simple/no-such-thing/", params={"x": "1"})
        queries.clear()
        answers = [http.get(f"/simple/no-such-{i}/") for i in range(50)]
        hot = http.get("/simple/no-such-thing/")
    assert all(r.status_code == 404 for r in answers)
    # ... is the hot path's, byte for byte.
    assert _seen(hot) == _seen(app)
    assert hot.json()["code"] == "component.missing"
    # No statement was about the names asked for, nor read components at all (the timers' own
    # statements are left out by the fixture).
    assert [q for q in queries if "no-such-" in q] == [], queries
    assert [q for q in queries if "component" in q.lower()] == [], queries
    assert _hot(a).answer(_scope("/simple/no-such-thing/"), "GET") is not None
    # A known name is never refused from memory.
    assert a.hub.cache.unknown("csv-dedupe") is False


def test_a_name_published_on_another_replica_becomes_known(
    pair: tuple[LiveServer, LiveServer], published: str, example_dists: dict[str, Path]
) -> None:
    a, b = pair
    with httpx.Client(base_url=b.url) as http_b, httpx.Client(base_url=a.url) as http_a:
        assert http_b.get("/simple/csv-dedupe-sdist-only/").status_code == 404
        # b learns the fixture's publishes through a by its serial poll (within a second).
        eventually(lambda: b.hub.cache.unknown("csv-dedupe") is False)
        r = upload(http_a, published, example_dists["csv-dedupe:sdist"])
        assert r.status_code == 200, r.text
        name = "daily-sales-pipeline"
        assert not b.hub.cache.unknown(name)
        # A brand-new name: published through a, learnt by b from the serial it polls.
        fresh = "csv-dedupe"  # already known; the fresh one is made below
        assert fresh
        token = published

        async def rename(hub: Hub) -> None:  # a new component row, as a first publish makes
            from pysetl_hub_server.audit.services import touch

            async with hub.sessions() as session, session.begin():
                component = models.Component(name="brand-new", display_name="brand-new")
                session.add(component)
                await session.flush()
                await touch(session, component, "component.create", actor=None)

        assert token
        assert b.hub.cache.unknown("brand-new")
        a.run(rename)
        eventually(lambda: not b.hub.cache.unknown("brand-new"), seconds=5)
        assert http_b.get("/simple/brand-new/").status_code == 200


# -- the project list -----------------------------------------------------------------------------


@pytest.mark.parametrize("accept", [None, JSON])
def test_project_list_is_compressed_by_negotiation(
    pair: tuple[LiveServer, LiveServer], published: str, accept: str | None
) -> None:
    a, _b = pair
    headers = {"Accept": accept} if accept else {}
    with httpx.Client(base_url=a.url) as http:
        plain = http.get("/simple/", headers={**headers, "Accept-Encoding": "identity"})
        zipped = http.get(
            "/simple/", headers={**headers, "Accept-Encoding": "gzip;q=1, identity;q=0.5"}
        )
        raw = http.build_request("GET", "/simple/", headers={**headers, "Accept-Encoding": "gzip"})
        raw_body = http.send(raw, stream=True)
        compressed = b"".join(raw_body.iter_raw())
        refused = http.get("/simple/", headers={**headers, "Accept-Encoding": "gzip;q=0"})
        again = http.get(
            "/simple/",
            headers={**headers, "Accept-Encoding": "gzip", "If-None-Match": zipped.headers["etag"]},
        )
        wrong = http.get(
            "/simple/",
            headers={
                **headers,
                "Accept-Encoding": "identity",
                "If-None-Match": zipped.headers["etag"],
            },
        )
    assert "content-encoding" not in plain.headers
    assert zipped.headers["content-encoding"] == "gzip"
    assert gzip.decompress(compressed) == plain.content == zipped.content
    assert len(compressed) < len(plain.content)
    assert int(raw_body.headers["content-length"]) == len(compressed)
    assert (
        "Accept-Encoding" in zipped.headers["vary"] and "Accept-Encoding" in plain.headers["vary"]
    )
    assert zipped.headers["etag"] != plain.headers["etag"]
    assert "content-encoding" not in refused.headers
    assert again.status_code == 304 and again.content == b""
    assert wrong.status_code == 200  # the gzip ETag does not validate the identity body
    assert b"Filler-0299" in plain.content


def test_project_list_render_happens_once_per_change(
    pair: tuple[LiveServer, LiveServer], published: str, queries: list[str]
) -> None:
    a, _b = pair
    with httpx.Client(base_url=a.url) as http:
        http.get("/simple/")
        queries.clear()
        for _ in range(20):
            assert http.get("/simple/", headers={"Accept-Encoding": "gzip"}).status_code == 200
    assert queries == []


# -- JSON API documents ---------------------------------------------------------------------------


def test_component_documents_are_cached_and_revalidated(
    pair: tuple[LiveServer, LiveServer], published: str, queries: list[str]
) -> None:
    a, _b = pair
    with httpx.Client(base_url=a.url) as http:
        first = http.get("/api/v1/components/daily-sales-pipeline")
        queries.clear()
        second = http.get("/api/v1/components/daily-sales-pipeline")
        release = http.get("/api/v1/components/daily-sales-pipeline/0.3.0")
        again = http.get("/api/v1/components/daily-sales-pipeline/0.3.0")
        not_modified = http.get(
            "/api/v1/components/daily-sales-pipeline",
            headers={"If-None-Match": first.headers["etag"]},
        )
    assert first.status_code == 200 and first.json()["name"] == "daily-sales-pipeline"
    assert _seen(second) == _seen(first)
    assert first.headers["content-type"] == "application/json"
    assert release.json()["version"] == "0.3.0" and _seen(again) == _seen(release)
    assert not_modified.status_code == 304
    # The second component GET and the second release GET were answered from memory.
    assert len(queries) > 0  # the first release GET read the database
    hot = _hot(a)
    assert hot.answer(_scope("/api/v1/components/daily-sales-pipeline"), "GET") is not None
    assert hot.answer(_scope("/api/v1/components/daily-sales-pipeline/0.3.0"), "GET") is not None
    # Requests with credentials go through the handler (which checks them).
    scope = _scope("/api/v1/components/daily-sales-pipeline", authorization="Bearer x")
    assert hot.answer(scope, "GET") is None


def _versions(http: httpx.Client, name: str) -> dict[str, bool]:
    doc = http.get(f"/api/v1/components/{name}").json()
    return {r["version"]: r["yanked"] for r in doc["releases"]}


def test_yank_and_delete_drop_the_documents_here_and_on_a_replica(
    pair: tuple[LiveServer, LiveServer], published: str, example_dists: dict[str, Path]
) -> None:
    from tests.support.dists import repack

    a, b = pair
    auth = {"Authorization": f"Bearer {published}"}
    with httpx.Client(base_url=a.url, timeout=30) as http_a, httpx.Client(base_url=b.url) as http_b:
        newer = repack(
            example_dists["daily-sales-pipeline:wheel"], b.settings.data_dir / "n", version="0.4.0"
        )
        assert upload(http_a, published, newer).status_code == 200
        eventually(lambda: _versions(http_b, "daily-sales-pipeline").get("0.4.0") is False)
        assert _versions(http_a, "daily-sales-pipeline")["0.4.0"] is False  # both cached now
        release_b = http_b.get("/api/v1/components/daily-sales-pipeline/0.4.0").json()
        assert release_b["yanked"] is False

        r = http_a.post(
            "/api/v1/components/daily-sales-pipeline/0.4.0/yank",
            json={"reason": "bad"},
            headers=auth,
        )
        assert r.status_code == 200, r.text
        assert _versions(http_a, "daily-sales-pipeline")["0.4.0"] is True  # at once, here
        eventually(lambda: _versions(http_b, "daily-sales-pipeline")["0.4.0"] is True)
        eventually(
            lambda: http_b.get("/api/v1/components/daily-sales-pipeline/0.4.0").json()["yanked"]
        )

        r = http_a.delete("/api/v1/components/daily-sales-pipeline/0.4.0", headers=auth)
        assert r.status_code == 200, r.text
        assert "0.4.0" not in _versions(http_a, "daily-sales-pipeline")
        assert http_a.get("/api/v1/components/daily-sales-pipeline/0.4.0").status_code == 404
        eventually(lambda: "0.4.0" not in _versions(http_b, "daily-sales-pipeline"))
        eventually(
            lambda: http_b.get("/api/v1/components/daily-sales-pipeline/0.4.0").status_code == 404
        )


def test_quarantined_documents_are_not_cached(
    pair: tuple[LiveServer, LiveServer], published: str
) -> None:
    a, _b = pair
    with httpx.Client(base_url=a.url) as http:
        assert http.get("/api/v1/components/no-such-component").status_code == 404
    assert a.hub.cache.peek_document("no-such-component") is None


# -- batches and budgets --------------------------------------------------------------------------


def test_first_requests_render_in_batches(
    pair: tuple[LiveServer, LiveServer], published: str, queries: list[str]
) -> None:
    a, _b = pair
    names = [f"filler-{i:04d}" for i in range(100)]
    for name in names:
        a.hub.cache.invalidate(name)

    async def ask_all(hub: Hub) -> None:
        import asyncio

        pages = await asyncio.gather(*(hub.cache.project(n) for n in names))
        assert all(p is not None for p in pages)

    # A private hub on the same database: its own cache, its own engine to count on.
    seen: list[str] = []

    async def counted(hub: Hub) -> None:
        await hub.cache.start()
        for name in names:  # dropped again: the start warmed them
            hub.cache.invalidate(name)
        try:
            event.listen(
                hub.engine.sync_engine, "before_cursor_execute", lambda *a: seen.append(a[2])
            )
            await ask_all(hub)
        finally:
            await hub.cache.stop()

    a.run(counted)
    renders = [q for q in seen if "file" in q.lower() and "release" in q.lower()]
    assert 1 <= len(renders) <= 2, renders  # 100 pages: one batch (two if one ran alone first)


def test_stats_report_hits_and_the_budget(
    pair: tuple[LiveServer, LiveServer], published: str
) -> None:
    a, _b = pair
    with httpx.Client(base_url=a.url) as http:
        http.get("/simple/csv-dedupe/")
        before = a.hub.cache.stats()["pages"]
        http.get("/simple/csv-dedupe/")
    after = a.hub.cache.stats()["pages"]
    assert after.hits > before.hits
    assert after.budget == a.settings.page_cache_bytes
    assert 0 < after.bytes <= after.budget
    assert set(a.hub.cache.stats()) == {"pages", "files"}


def test_the_page_budget_bounds_what_is_kept(tmp_path: Path) -> None:
    """A budget of a few pages keeps a few pages, the most recently asked."""
    import asyncio

    from pysetl_hub_server.db.migrate import upgrade
    from pysetl_hub_server.runtime import open_hub
    from pysetl_hub_server.settings import Settings

    settings = Settings(data_dir=tmp_path, page_cache_bytes=6000)
    upgrade(settings.effective_database_url)

    async def go() -> None:
        async with open_hub(settings) as hub:
            async with hub.sessions() as session, session.begin():
                await session.execute(
                    insert(models.Component),
                    [{"name": f"c-{i}", "display_name": f"c-{i}"} for i in range(40)],
                )
            await hub.cache.start()
            for i in range(40):
                assert await hub.cache.project(f"c-{i}") is not None
                stats = hub.cache.stats()["pages"]
                assert stats.bytes <= 6000
            assert hub.cache.peek("c-39") is not None
            assert hub.cache.peek("c-0") is None
            assert hub.cache.stats()["pages"].evictions > 0
            await hub.cache.stop()

    asyncio.run(go())


def test_a_new_replica_warms_its_pages_before_it_serves(
    pair: tuple[LiveServer, LiveServer], published: str, tmp_path: Path
) -> None:
    """A replica that starts on a populated catalogue has the project list and the project
    pages in memory before its first request (the cold-start goal); a small page budget stops
    the warming at WARM_SHARE of it."""
    url = pair[0].settings.effective_database_url
    late = start_hub(tmp_path / "late", url)
    try:
        cache = late.hub.cache
        assert cache.peek(ROOT) is not None
        for name in ("csv-dedupe", "daily-sales-pipeline", "filler-0000", "filler-0299"):
            assert cache.peek(name) is not None, name
        assert cache.stats()["pages"].bytes <= late.settings.page_cache_bytes * WARM_SHARE + 64_000
    finally:
        late.stop()
    budget = 40_000
    small = start_hub(tmp_path / "small", url, page_cache_bytes=budget)
    try:
        held = small.hub.cache.stats()["pages"]
        assert 0 < held.entries < FILLER  # stopped early ...
        assert held.bytes <= budget  # ... within the budget
        assert held.evictions == 0  # warming never pushes out what it warmed
    finally:
        small.stop()


def test_a_document_is_kept_once_however_it_is_spelled(
    pair: tuple[LiveServer, LiveServer], published: str
) -> None:
    """Spellings of one name and version share one entry: they cannot push index pages out."""
    from pysetl_hub_server.simple.cache import IndexCache

    a, _b = pair
    cache = a.hub.cache
    assert isinstance(cache, IndexCache)
    cache.invalidate("daily-sales-pipeline")
    names = [
        "daily-sales-pipeline",
        "Daily_Sales_Pipeline",
        "daily.sales__pipeline",
        "DAILY-SALES-PIPELINE",
    ]
    versions = ["0.3.0", "v0.3.0", "00.3.0", "0.3", "0.3.0.0"]
    with httpx.Client(base_url=a.url) as http:
        bodies = {http.get(f"/api/v1/components/{n}").content for n in names}
        bodies |= {http.get(f"/api/v1/components/{n}/{v}").content for n in names for v in versions}
    assert len(bodies) == 2  # the component and the release, however spelled
    assert len(cache._docs_of["daily-sales-pipeline"]) == 2
    hot = _hot(a)
    assert hot.answer(_scope("/api/v1/components/daily-sales-pipeline"), "GET") is not None
    assert hot.answer(_scope("/api/v1/components/daily-sales-pipeline/0.3.0"), "GET") is not None
    # Other spellings go to the handler, which answers them from the same entry.
    assert hot.answer(_scope("/api/v1/components/Daily_Sales_Pipeline"), "GET") is None


def test_evicted_documents_leave_the_index_of_documents(tmp_path: Path) -> None:
    """What the LRU drops also leaves the per-component index: it never outgrows the memory."""
    import asyncio

    from pysetl_hub_server.answers import json_answer
    from pysetl_hub_server.db.migrate import upgrade
    from pysetl_hub_server.runtime import open_hub
    from pysetl_hub_server.settings import Settings
    from pysetl_hub_server.simple.cache import IndexCache

    settings = Settings(data_dir=tmp_path, page_cache_bytes=20_000)
    upgrade(settings.effective_database_url)
    body = b"{}" * 1000

    async def go() -> None:
        async with open_hub(settings) as hub:
            cache = hub.cache
            assert isinstance(cache, IndexCache)
            for i in range(2000):
                name = f"c-{i}"
                cache.put_document(name, name, json_answer(body), cache.generation(name))
                cache.put_document(name, f"{name}/1", json_answer(body), cache.generation(name))
            held = cache.stats()["pages"].entries
            assert 0 < held < 20
            assert sum(len(keys) for keys in cache._docs_of.values()) == held
            assert cache.peek_document("c-1999/1") is not None
            assert cache.peek_document("c-0") is None

    asyncio.run(go())


def test_known_files_are_bounded(pair: tuple[LiveServer, LiveServer], published: str) -> None:
    """The files a process knows are kept by count; an evicted one leaves its component's
    index too, and is read again when asked."""
    from pysetl_hub_server.simple.cache import IndexCache

    a, _b = pair
    cache = a.hub.cache
    assert isinstance(cache, IndexCache)
    budget = cache._files.budget
    cache._files.budget = 1
    try:
        with httpx.Client(base_url=a.url) as http:
            for name in ("csv-dedupe", "daily-sales-pipeline"):
                files = http.get(f"/simple/{name}/", headers={"Accept": JSON}).json()["files"]
                assert http.get(files[0]["url"]).status_code == 200
                assert len(cache._files) == 1
                assert set(cache._files_of) == {name}
    finally:
        cache._files.budget = budget


def test_a_page_not_in_memory_is_answered_without_the_app(
    pair: tuple[LiveServer, LiveServer], published: str
) -> None:
    """A first request (a cold start, or a page the LRU dropped) is rendered in the cache's
    batch and answered by the hot path: at 100k components most first requests are such, and
    the app's routing doubled their cost. Names to redirect are still the app's."""
    a, _b = pair

    async def go(hub: Hub) -> tuple[list[str], dict[str, list[dict[str, Any]]]]:
        await hub.cache.start()
        try:
            hub.cache.invalidate("csv-dedupe")
            assert hub.cache.peek("csv-dedupe") is None
            reached: list[str] = []
            sent: dict[str, list[dict[str, Any]]] = {}

            async def app(scope: Any, _receive: Any, _send: Any) -> None:
                reached.append(scope["path"])

            async def receive() -> dict[str, Any]:
                return {"type": "http.request", "body": b""}

            hot = HotPath(app, hub.cache, hub.downloads)
            for path in ("/simple/csv-dedupe/", "/simple/CSV_Dedupe/"):
                messages = sent.setdefault(path, [])

                async def send(message: Any, into: list[dict[str, Any]] = messages) -> None:
                    into.append(message)

                await hot(_scope(path), receive, send)  # type: ignore[arg-type]
            assert hub.cache.peek("csv-dedupe") is not None  # kept for the next request
            return reached, sent
        finally:
            await hub.cache.stop()

    reached, sent = a.run(go)
    assert reached == ["/simple/CSV_Dedupe/"]
    start, body = sent["/simple/csv-dedupe/"]
    assert start["status"] == 200 and b"csv_dedupe-" in body["body"]


def test_a_served_process_freezes_its_start_up_heap(
    pair: tuple[LiveServer, LiveServer], published: str, tmp_path: Path
) -> None:
    """gc_freeze (on under `serve`): once warm, what start-up built is out of the cyclic
    collector's sight; at 100k components a full collection over it held the event loop for
    ~200 ms, the slowest 1% of a cold start. Off, nothing is frozen."""
    url = pair[0].settings.effective_database_url
    assert Settings.from_env({"PYSETL_HUB_GC_FREEZE": "1"}).gc_freeze
    assert not Settings.from_env({}).gc_freeze
    gc.unfreeze()
    plain = start_hub(tmp_path / "plain", url)
    try:
        assert gc.get_freeze_count() == 0
    finally:
        plain.stop()
    frozen = start_hub(tmp_path / "frozen", url, gc_freeze=True)
    try:
        assert gc.get_freeze_count() > 10_000  # modules, the app, the warmed pages
        assert frozen.hub.cache.peek("csv-dedupe") is not None
    finally:
        frozen.stop()
        gc.unfreeze()  # back to the collector: this test process goes on
