"""The real `pysetl-hub-server serve --workers 2`, JSON logs and access log on: the workers'
metrics add up in /metrics whichever worker answers the scrape, every line of the log is a
JSON object, and the access line of a request carries its id."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.scrape import parse, value
from tests.support.served import Served, serve

TOKEN = "multiprocess-metrics-token"
REQUESTS = 120
GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, Path]]:
    tmp = tmp_path_factory.mktemp("serve-workers")
    shared = tmp / "prometheus"
    shared.mkdir()
    (shared / "counter_999999.db").write_bytes(b"left by an earlier run")
    token_file = tmp / "metrics-token"
    token_file.write_text(TOKEN + "\n")
    env = {
        "PYSETL_HUB_LOG_FORMAT": "json",
        "PYSETL_HUB_METRICS_TOKEN_FILE": str(token_file),
        "PROMETHEUS_MULTIPROC_DIR": str(shared),
    }
    server = serve(
        tmp / "data", tmp / "server.log", env=env, args=["--workers", "2"], access_log=True
    )
    yield server, shared
    server.stop()


def _scrape(url: str) -> str:
    # A new connection each time: either worker may answer.
    r = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    assert r.status_code == 200, r.text
    return r.text


def _healthz_count(url: str) -> float:
    return value(
        parse(_scrape(url)), "pysetl_hub_http_request_duration_seconds_count",
        route="/healthz", method="GET", status="2xx",
    )  # fmt: skip


def test_metrics_add_up_across_workers(served: tuple[Served, Path]) -> None:
    """Each worker moves its tallies into the shared files every second (and the answering
    worker at the scrape): within a second or two, every scrape reports the same total."""
    server, shared = served
    assert not (shared / "counter_999999.db").exists()  # emptied at start
    time.sleep(1.5)  # the start-up readiness probes are in the files
    before = _healthz_count(server.url)
    for _ in range(REQUESTS):
        assert httpx.get(f"{server.url}/healthz", timeout=30).status_code == 200  # new connection
    deadline = time.monotonic() + 10
    while (seen := _healthz_count(server.url)) - before != REQUESTS:
        assert seen - before < REQUESTS and time.monotonic() < deadline, (before, seen)
        time.sleep(0.2)
    # Both workers answered some: each has its own file of values in the shared directory.
    pids = {p.stem.rsplit("_", 1)[1] for p in shared.glob("histogram_*.db")}
    assert len(pids) == 2, sorted(p.name for p in shared.iterdir())
    for _ in range(4):  # whichever worker answers, the total is the same
        assert _healthz_count(server.url) - before == REQUESTS


def _kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"{field} not in /proc/{pid}/status")


def test_the_serving_process_holds_no_app(served: tuple[Served, Path]) -> None:
    """`serve` migrates, then execs into launch.py: the process that only watches the workers
    keeps neither the CLI nor the app (it held ~130 MB when it forked them from the CLI). The
    pid stays the one started, and the workers are its children."""
    server, _ = served
    out = subprocess.run(
        ["pgrep", "-P", str(server.proc.pid)], capture_output=True, text=True, check=False
    ).stdout
    workers = [int(p) for p in out.split()]
    assert len(workers) == 2, out
    parent = _kib(server.proc.pid, "VmRSS")
    assert parent < 64 * 1024, f"the serving process holds {parent} KiB"
    for worker in workers:
        assert _kib(worker, "VmRSS") > 2 * parent  # the app lives in the workers


def test_json_log_lines_with_the_request_id(served: tuple[Served, Path]) -> None:
    server, _ = served
    r = httpx.get(f"{server.url}/healthz", headers={"X-Request-ID": "json-log-probe-7"})
    assert r.headers["x-request-id"] == "json-log-probe-7"
    hostile = "x" * 300
    r = httpx.get(f"{server.url}/no/such/page", headers={"X-Request-ID": hostile})
    generated = r.headers["x-request-id"]
    assert r.status_code == 404 and GENERATED.fullmatch(generated)
    server.stop()  # flush and close: every line is written
    lines = [line for line in server.log.read_text().splitlines() if line.strip()]
    records = []
    for line in lines:
        record = json.loads(line)  # every line is one JSON object
        assert {"time", "level", "logger", "message", "request_id"} <= record.keys(), record
        records.append(record)
    assert any("serving on" in r["message"] for r in records)
    (probe,) = [r for r in records if r["request_id"] == "json-log-probe-7"]
    assert probe["logger"] == "pysetl_hub_server.access"
    assert probe["method"] == "GET" and probe["route"] == "/healthz" and probe["status"] == 200
    assert probe["path"] == "/healthz" and probe["duration_ms"] >= 0
    (lost,) = [r for r in records if r["request_id"] == generated]
    assert lost["route"] == "unmatched" and lost["status"] == 404
    assert not any(hostile in line for line in lines)
