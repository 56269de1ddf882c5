"""The production topology, proven with real processes on one machine (issue 14, section 2).

One topology for the whole module (harness.py): PostgreSQL, moto's S3 server, Redis, three
`pysetl-hub-server serve` processes and nginx in front. Each test shows one point of section 2;
the outages come last, and each puts back what it took down. Nothing is mocked: the only
stand-in is moto for an S3 service (no MinIO binary can be installed here), and no Meilisearch
can be installed either, so "search engine down" points replicas at a port where nothing
listens, which is what a dead engine looks like to the hub.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from pysetl_hub_server.storage.blobs import blob_key
from tests.support.dists import build_example, repack
from tests.support.postgres import free_port
from tests.support.upload import form_for, problem, upload
from tests.topology import harness

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture(scope="module")
def topo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.Topology]:
    topology = harness.start(3, tmp_path_factory.mktemp("topology"))
    try:
        # Two replicas outside nginx for two of the points, starting while the first run.
        topology.start_extra("presign", PYSETL_HUB_STORAGE_PRESIGN_SECONDS="120")
        topology.start_extra(
            "nosearch",
            # Their own database, so the built-in engine of the main replicas cannot drain
            # the outbox this one leaves behind.
            PYSETL_HUB_DATABASE_URL=topology.pg.create_database("hub_nosearch"),
            PYSETL_HUB_SEARCH_URL=f"http://127.0.0.1:{free_port()}",  # nothing listens there
            PYSETL_HUB_STORAGE_URL=topology.s3.storage_url("nosearch"),
        )
        yield topology
    finally:
        topology.close()


def extra(topo: harness.Topology, name: str) -> harness.Replica:
    replica = next(r for r in topo.extra if r.name == name)
    replica.wait_ready()
    return replica


@pytest.fixture(scope="module")
def source_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("example")
    return next(p for p in build_example("csv-dedupe", out) if p.suffix == ".whl")


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dists")


def make_wheel(source: Path, out: Path, name: str, version: str = "1.0.0", tag: str = "") -> Path:
    """A valid wheel of `name`; `tag` changes its bytes (not its filename)."""

    def mark(members: dict[str, bytes]) -> None:
        if tag:
            members[f"{name.replace('-', '_')}_build.txt"] = tag.encode()

    return repack(source, out / f"{name}-{version}-{tag}", name=name, version=version, mutate=mark)


def sql(topo: harness.Topology, query: str, *args: Any) -> list[Any]:
    """Rows of a query on the shared PostgreSQL, read as a third party."""
    import asyncpg

    async def go() -> list[Any]:
        conn = await asyncpg.connect(
            host="127.0.0.1", port=topo.pg.port, user="postgres", database="hub"
        )
        try:
            return list(await conn.fetch(query, *args))
        finally:
            await conn.close()

    return asyncio.run(go())


def publish(url: str, token: str, wheel: Path) -> httpx.Response:
    with httpx.Client(base_url=url, timeout=60) as client:
        return upload(client, token, wheel)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_path(wheel: Path) -> str:
    return f"/files/{sha256(wheel.read_bytes())}/{wheel.name}"


def test_concurrent_publishes_of_one_filename_exactly_one_wins(
    topo: harness.Topology, source_wheel: Path, dists: Path
) -> None:
    """Three different builds under one filename, each sent to another replica at once."""
    builds = [make_wheel(source_wheel, dists, "race-pipe", tag=f"b{i}") for i in range(3)]
    assert len({b.name for b in builds}) == 1 and len({sha256(b.read_bytes()) for b in builds}) == 3
    gate = threading.Barrier(3)

    def send(pair: tuple[harness.Replica, Path]) -> httpx.Response:
        replica, wheel = pair
        gate.wait()
        return publish(replica.url, topo.token, wheel)

    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(send, zip(topo.replicas, builds, strict=True)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 409, 409], [a.text[:300] for a in answers]
    for loser in (a for a in answers if a.status_code == 409):
        assert problem(loser)["code"] == "file.exists"
    winner = builds[[a.status_code for a in answers].index(200)]
    rows = sql(topo, "SELECT sha256 FROM files WHERE filename = $1", winner.name)
    assert [r["sha256"] for r in rows] == [sha256(winner.read_bytes())]
    stored = [topo.s3.has(blob_key(sha256(b.read_bytes()))) for b in builds]
    assert stored == [b is winner for b in builds], "the losers' blobs must not stay behind"


def test_a_publish_is_visible_through_every_replica_within_a_second(
    topo: harness.Topology, source_wheel: Path, dists: Path
) -> None:
    name = "seen-everywhere"
    wheel = make_wheel(source_wheel, dists, name)
    for replica in topo.replicas:  # every replica holds the project list before the change
        assert name not in httpx.get(f"{replica.url}/simple/", timeout=10).text
    checks: dict[str, Callable[[httpx.Client], bool]] = {
        "/simple/": lambda c: name in c.get("/simple/").text,
        f"/simple/{name}/": lambda c: wheel.name in c.get(f"/simple/{name}/").text,
        "JSON API": lambda c: c.get(f"/api/v1/components/{name}").status_code == 200,
        "search": lambda c: any(
            h["name"] == name for h in c.get("/api/v1/search", params={"q": name}).json()["hits"]
        ),
    }

    def seen_after(job: tuple[harness.Replica, str]) -> float:
        """Seconds from the publish's answer to the first answer that shows it."""
        replica, what = job
        with httpx.Client(base_url=replica.url, timeout=10) as client:
            while not checks[what](client):
                assert time.monotonic() - published < 10, f"{replica.name} never showed {what}"
                time.sleep(0.01)
        return time.monotonic() - published

    jobs = [(r, what) for r in topo.replicas[1:] for what in checks]
    answer = publish(topo.replicas[0].url, topo.token, wheel)
    assert answer.status_code == 200, answer.text
    published = time.monotonic()
    with ThreadPoolExecutor(len(jobs)) as pool:  # every replica and view watched at once
        seen = list(pool.map(seen_after, jobs))
    waits = {f"{r.name} {what}": t for (r, what), t in zip(jobs, seen, strict=True)}
    assert max(waits.values()) < 1.0, waits


def test_rate_limits_are_shared_through_redis(topo: harness.Topology) -> None:
    """bad_token=6/minute: six bad tokens spread over three replicas (two each, far under the
    limit of any one of them alone) use up the one shared window; the seventh is refused by
    whichever replica it reaches."""
    topo.redis.flush()
    try:
        bad = ("__token__", "pshub_not-a-real-token")
        for i in range(6):
            replica = topo.replicas[i % 3]
            answer = httpx.post(f"{replica.url}/legacy/", auth=bad, timeout=10)
            assert answer.status_code == 401, (replica.name, answer.text)
        for replica in topo.replicas:
            refused = httpx.post(f"{replica.url}/legacy/", auth=bad, timeout=10)
            assert refused.status_code == 429, (replica.name, refused.text)
            assert problem(refused)["code"] == "rate.bad_token"
            assert int(refused.headers["retry-after"]) > 0
        assert topo.redis.command("DBSIZE") != b":0\r\n"  # the counters live in Redis
    finally:
        topo.redis.flush()  # the window would refuse the next tests' tokens from this address


def test_files_are_stored_in_s3_and_streamed_by_every_replica(
    topo: harness.Topology, source_wheel: Path, dists: Path
) -> None:
    wheel = make_wheel(source_wheel, dists, "stored-in-s3")
    assert publish(topo.url, topo.token, wheel).status_code == 200
    digest = sha256(wheel.read_bytes())
    assert topo.s3.read(blob_key(digest)) == wheel.read_bytes()
    for replica in topo.replicas:
        got = httpx.get(replica.url + file_path(wheel), timeout=30)
        assert got.status_code == 200 and sha256(got.content) == digest, replica.name
    through = httpx.get(topo.url + file_path(wheel), timeout=30)
    assert through.status_code == 200 and sha256(through.content) == digest
    assert through.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_presigned_redirect_downloads_from_the_store(
    topo: harness.Topology, source_wheel: Path, dists: Path
) -> None:
    """A replica with PYSETL_HUB_STORAGE_PRESIGN_SECONDS set answers a redirect to a presigned
    URL of the bucket; following it downloads the right bytes from moto, not from the hub."""
    wheel = make_wheel(source_wheel, dists, "signed-download")
    assert publish(topo.url, topo.token, wheel).status_code == 200
    signer = extra(topo, "presign")
    try:
        answer = httpx.get(signer.url + file_path(wheel), timeout=30)
        assert answer.status_code == 307, answer.text
        location = answer.headers["location"]
        assert location.startswith(f"{topo.s3.endpoint}/{topo.s3.bucket}/")
        assert "X-Amz-Signature=" in location and "X-Amz-Expires=120" in location
        assert "no-store" in answer.headers["cache-control"]
        assert "private" in answer.headers["cache-control"]
        followed = httpx.get(location, timeout=30)
        assert followed.status_code == 200
        assert sha256(followed.content) == sha256(wheel.read_bytes())
        head = httpx.head(signer.url + file_path(wheel), timeout=30)  # no redirect for HEAD
        assert head.status_code == 200
    finally:
        signer.stop()


def test_rolling_restart_under_load_fails_no_request(
    topo: harness.Topology, source_wheel: Path, dists: Path
) -> None:
    """SIGTERM each replica in turn, wait for its clean exit, start it, wait for /readyz, under
    a steady read load through nginx: no 5xx, no connection error (nginx skips a replica that
    is down: proxy_next_upstream), and an upload in flight at SIGTERM completes (granian
    drains it)."""
    wheel = make_wheel(source_wheel, dists, "rolling-load")
    assert publish(topo.url, topo.token, wheel).status_code == 200
    paths = ["/simple/rolling-load/", file_path(wheel), "/simple/"]
    # Every replica shows the new name first (within a second, by its serial poll; the test
    # above measures that): this test is about restarts, not about propagation.
    deadline = time.monotonic() + 10
    for replica in topo.replicas:
        while httpx.get(f"{replica.url}{paths[0]}", timeout=10).status_code != 200:
            assert time.monotonic() < deadline, f"{replica.name} never showed rolling-load"
            time.sleep(0.02)
    stop = threading.Event()
    outcomes: list[int | str] = []

    def load() -> None:
        with httpx.Client(base_url=topo.url, timeout=30) as client:
            while not stop.is_set():
                for path in paths:
                    try:
                        outcomes.append(client.get(path).status_code)
                    except httpx.TransportError as exc:
                        outcomes.append(f"{path}: {exc!r}")
                    time.sleep(0.02)  # a steady load, not a CPU race with the restarts

    inflight = make_wheel(source_wheel, dists, "in-flight")
    with ThreadPoolExecutor(4) as pool:
        workers = [pool.submit(load) for _ in range(3)]
        try:
            for i, replica in enumerate(topo.replicas):
                time.sleep(0.3)
                # The first one gets an upload whose body is still arriving at SIGTERM: nginx
                # never retries a POST, so the replica itself must finish it before exiting.
                if i == 0:
                    slow = pool.submit(slow_upload, replica.url, topo.token, inflight, 2.0)
                    time.sleep(0.7)
                terminated = time.monotonic()
                assert replica.stop() == 0, replica.tail()  # SIGTERM: a clean exit
                if i == 0:
                    drained, finished = slow.result()
                    assert drained.status_code == 200, drained.text
                    assert finished > terminated, "the upload was not in flight at SIGTERM"
                time.sleep(0.3)  # traffic goes on with one replica out
                replica.start()
                replica.wait_ready()
            time.sleep(0.3)
        finally:
            stop.set()
            for worker in workers:
                worker.result()
    failed = [o for o in outcomes if o != 200]
    assert len(outcomes) > 100, len(outcomes)
    assert failed == [], f"{len(failed)} of {len(outcomes)} failed: {failed[:10]}"


def slow_upload(url: str, token: str, wheel: Path, seconds: float) -> tuple[httpx.Response, float]:
    """An upload whose body takes `seconds` to arrive, in 20 pieces; the answer and when it
    came (monotonic)."""
    boundary = "topology-slow-upload"
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in form_for(wheel).items()
    )
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="content"; '
        f'filename="{wheel.name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    body = head + wheel.read_bytes() + f"\r\n--{boundary}--\r\n".encode()

    def pieces() -> Iterator[bytes]:
        step = len(body) // 20 + 1
        for at in range(0, len(body), step):
            yield body[at : at + step]
            time.sleep(seconds / 20)

    answer = httpx.post(
        f"{url}/legacy/",
        content=pieces(),
        auth=("__token__", token),
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(len(body)),
        },
        timeout=60,
    )
    return answer, time.monotonic()


def test_search_engine_down_search_is_503_and_publishing_goes_on(
    topo: harness.Topology, source_wheel: Path, dists: Path
) -> None:
    """A replica configured with a Meilisearch URL where nothing listens (no Meilisearch can be
    installed here), on a database of its own (see the fixture)."""
    replica = extra(topo, "nosearch")
    database_url = replica.env["PYSETL_HUB_DATABASE_URL"]
    try:
        token = harness.user_with_token(database_url, topo.root / "jobs-nosearch", "ops")
        searched = httpx.get(f"{replica.url}/api/v1/search", params={"q": "x"}, timeout=30)
        assert searched.status_code == 503
        assert problem(searched)["code"] == "search.unavailable"
        assert int(searched.headers["retry-after"]) > 0
        wheel = make_wheel(source_wheel, dists, "outboxed")
        assert publish(replica.url, token, wheel).status_code == 200
        assert "outboxed" in httpx.get(f"{replica.url}/simple/", timeout=10).text
        time.sleep(0.5)  # the indexer has tried (and failed): the change waits
        pending = sql_at(topo, "hub_nosearch", "SELECT component FROM search_outbox")
        assert "outboxed" in [r["component"] for r in pending]
    finally:
        replica.stop()


def sql_at(topo: harness.Topology, database: str, query: str) -> list[Any]:
    import asyncpg

    async def go() -> list[Any]:
        conn = await asyncpg.connect(
            host="127.0.0.1", port=topo.pg.port, user="postgres", database=database
        )
        try:
            return list(await conn.fetch(query))
        finally:
            await conn.close()

    return asyncio.run(go())


def test_database_down_writes_503_cached_pages_and_files_still_served(
    topo: harness.Topology, source_wheel: Path, dists: Path
) -> None:
    wheel = make_wheel(source_wheel, dists, "db-outage")
    assert publish(topo.url, topo.token, wheel).status_code == 200
    # Every replica's poller has seen the publish (and dropped its pages) before the warm-up,
    # so none drops the warmed page afterwards.
    time.sleep(4 * float(harness.POLL_SECONDS))
    reads = ["/simple/db-outage/", file_path(wheel)]
    for replica in topo.replicas:  # each replica holds the page and the (small) file in memory
        deadline = time.monotonic() + 5
        for path in reads:
            while httpx.get(replica.url + path, timeout=10).status_code != 200:
                assert time.monotonic() < deadline, (replica.name, path)
                time.sleep(0.05)
    later = make_wheel(source_wheel, dists, "db-outage", version="2.0.0")
    topo.pg.halt()
    try:
        time.sleep(0.5)  # the pollers have seen the database go
        refused = publish(topo.url, topo.token, later)
        assert refused.status_code == 503, refused.text
        assert problem(refused)["code"] == "database.unavailable"
        assert int(refused.headers["retry-after"]) > 0
        for base in [topo.url, *(r.url for r in topo.replicas)]:
            for path in reads:
                got = httpx.get(base + path, timeout=10)
                assert got.status_code == 200, (base, path, got.text[:300])
        assert sha256(httpx.get(topo.url + reads[1], timeout=10).content) == sha256(
            wheel.read_bytes()
        )
    finally:
        topo.pg.resume()
    deadline = time.monotonic() + 15
    while (answer := publish(topo.url, topo.token, later)).status_code == 503:
        assert time.monotonic() < deadline, answer.text
        time.sleep(0.2)
    assert answer.status_code == 200, answer.text


def test_storage_down_uploads_503_leave_no_row_and_pages_still_served(
    topo: harness.Topology, source_wheel: Path, dists: Path
) -> None:
    """Last: moto keeps its objects in memory, so the bucket comes back empty."""
    for replica in topo.replicas:
        assert httpx.get(f"{replica.url}/simple/db-outage/", timeout=10).status_code == 200
    unread = make_wheel(source_wheel, dists, "never-read")  # no replica holds its bytes
    assert publish(topo.url, topo.token, unread).status_code == 200
    wheel = make_wheel(source_wheel, dists, "no-storage")
    topo.s3.halt()
    try:
        refused = publish(topo.url, topo.token, wheel)
        assert refused.status_code == 503, refused.text
        assert problem(refused)["code"] == "storage.unavailable"
        assert int(refused.headers["retry-after"]) > 0
        download = httpx.get(topo.replicas[0].url + file_path(unread), timeout=30)
        assert download.status_code == 503, download.text  # not a 500, not a cut-off 200
        assert problem(download)["code"] == "storage.unavailable"
        assert sql(topo, "SELECT id FROM files WHERE filename = $1", wheel.name) == []
        assert sql(topo, "SELECT 1 FROM filename_registry WHERE filename = $1", wheel.name) == []
        assert sql(topo, "SELECT id FROM components WHERE name = 'no-storage'") == []
        for base in [topo.url, *(r.url for r in topo.replicas)]:
            page = httpx.get(f"{base}/simple/db-outage/", timeout=10)
            assert page.status_code == 200, (base, page.text[:300])
    finally:
        topo.s3.resume()
    assert publish(topo.url, topo.token, wheel).status_code == 200
