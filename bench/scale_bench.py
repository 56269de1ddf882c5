"""Cost as the catalogue grows: index pages, project list, JSON API, unknown names, search,
cold start, start-up time and memory, at 1k, 10k and 100k components (run by hand).

    .venv/bin/python bench/scale_bench.py [--sizes 1000,10000,100000] [--seconds 5]
        [--postgres] [--replicas 1,2,3] [--server-bin PATH] [--workdir DIR]

`make bench-scale` runs it with the defaults; `SIZES=1000,10000 make bench-scale` is the quick
mode. Each catalogue (N components x 5 releases, bench/scale_seed.py) is served by
`pysetl-hub-server serve` (granian, one worker, SQLite, as `make serve`) and measured with wrk
at 64 connections. With --postgres the 10k catalogue's search also runs on a throwaway
PostgreSQL (tests/support/postgres.py). With --replicas, 1, 2, 3 servers on one database run
behind Debian's nginx (bench/scale_nginx.py) on `/simple/{name}/` and a wheel download.
--server-bin measures another build (say /work/main/.venv/bin/pysetl-hub-server: before).
The goals of issue 14 are checked at the end, PASS or FAIL each.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from scale_seed import seed  # noqa: E402
from web_bench import Run, wrk  # noqa: E402

from tests.support.postgres import free_port  # noqa: E402

CONNECTIONS = 64
GOAL_RPS = 10_000  # JSON API documents and unknown names, warm
GOAL_COLD_P99 = 50.0  # ms, random pages right after a start
GOAL_SEARCH_P99 = 20.0  # ms at 10k, SQLite and PostgreSQL
FLAT = 1.5  # p99 at the biggest size within this factor of the smallest
GZIP = {"Accept-Encoding": "gzip"}
WORDS = [
    "kafka",
    "delta",
    "dedupe",
    "parquet",
    "mask",
    "csv",
    "json reader",
    "s3 writer",
    "postgres",
    "validate",
    "flatten",
    "geocode",
    "timezone",
    "snowflake",
    "excel",
    "aggregate",
    "join",
    "clean",
    "bigquery",
    "redis",
    "avro",
    "iceberg",
    "mongodb",
]


@dataclass
class Row:
    size: int
    database: str
    what: str
    run: Run


def rss_mb(pid: int) -> float:
    """Memory of the server process and its children (granian's worker), as PSS: the worker is
    forked from the serving process, and the pages they share (the imported code, ~80 MB) are
    counted once, not in each (a sum of their RSS counts them twice). VmRSS where the kernel
    has no smaps_rollup."""
    total = 0
    pids = [pid]
    try:
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
        pids += [int(p) for p in out.split()]
    except OSError:
        pass
    for p in pids:
        try:
            rollup = Path(f"/proc/{p}/smaps_rollup").read_text().splitlines()
            total += next(int(line.split()[1]) for line in rollup if line.startswith("Pss:"))
            continue
        except (OSError, StopIteration):
            pass
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


@contextmanager
def serving(bin_: Path, data: Path, env: dict[str, str]) -> Iterator[tuple[str, int, float]]:
    """The server on a free port; yields (base URL, pid, seconds until /readyz answered)."""
    port = free_port()
    began = time.monotonic()
    proc = subprocess.Popen(
        [str(bin_), "--data-dir", str(data), "serve", "--port", str(port), "--no-access-log"],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited with {proc.returncode}")
            try:
                if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not become ready")
            time.sleep(0.02)
        yield base, proc.pid, time.monotonic() - began
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def warm(base: str, paths: list[str], headers: dict[str, str] | None = None) -> None:
    with httpx.Client(base_url=base, timeout=120, headers=headers) as client:
        for p in paths:
            r = client.get(p)
            if r.status_code != 200:
                raise RuntimeError(f"GET {p} answered {r.status_code}: {r.text[:300]}")


def measure_size(
    args: argparse.Namespace, work: Path, n: int, rows: list[Row], facts: dict[str, object]
) -> None:
    data = work / f"hub-{n}"
    names = seed(data, n, args.seed)
    rng = random.Random(args.seed)
    env = {"PYSETL_HUB_DATA_DIR": str(data)}
    s = args.seconds
    with serving(args.server_bin, data, env) as (base, pid, startup):
        facts[f"startup_{n}"] = startup
        facts[f"rss_start_{n}"] = rss_mb(pid)
        cold = rng.sample(names, min(len(names), 20_000))
        rows.append(
            Row(
                n,
                "sqlite",
                "cold /simple/{name}/ (first 3 s)",
                wrk(base, [f"/simple/{x}/" for x in cold], CONNECTIONS, 3, work),
            )
        )
        pages = [f"/simple/{x}/" for x in rng.sample(names, 1000)]
        warm(base, pages)
        rows.append(
            Row(n, "sqlite", "warm /simple/{name}/", wrk(base, pages, CONNECTIONS, s, work))
        )
        unknown = [f"/simple/no-such-{rng.randrange(10**9)}/" for _ in range(2000)]
        run = wrk(base, unknown, CONNECTIONS, s, work)
        run.errors = run.errors.replace("Non-2xx or 3xx responses", "404s (expected)")
        rows.append(Row(n, "sqlite", "unknown /simple/{name}/ (404)", run))
        root = httpx.get(f"{base}/simple/", headers=GZIP, timeout=120)
        plain = httpx.get(f"{base}/simple/", headers={"Accept-Encoding": "identity"}, timeout=120)
        facts[f"root_{n}"] = (
            root.num_bytes_downloaded,
            root.headers.get("content-encoding"),
            plain.num_bytes_downloaded,
        )
        rows.append(
            Row(
                n,
                "sqlite",
                "/simple/ root (gzip)",
                wrk(base, ["/simple/"], CONNECTIONS, s, work, GZIP),
            )
        )
        api = [f"/api/v1/components/{x}" for x in rng.sample(names, 1000)]
        warm(base, api)
        rows.append(Row(n, "sqlite", "JSON API component", wrk(base, api, CONNECTIONS, s, work)))
        searches = [f"/api/v1/search?q={w.replace(' ', '+')}" for w in WORDS]
        searches += [f"/api/v1/search?q={x.split('-')[0][:5]}" for x in rng.sample(names, 40)]
        warm(base, searches)
        rows.append(Row(n, "sqlite", "search", wrk(base, searches, CONNECTIONS, s, work)))
        # Each query asked once (a prefix, a page): what the engine costs when no answer is in
        # memory, as for the long tail of what people type.
        distinct = sorted(
            {
                f"/api/v1/search?q={x[: rng.randrange(3, 9)]}&page={rng.randrange(1, 4)}"
                for x in rng.sample(names, min(len(names), 6000))
            }
        )
        rng.shuffle(distinct)
        rows.append(
            Row(n, "sqlite", "search, distinct queries", wrk(base, distinct, CONNECTIONS, s, work))
        )
        facts[f"rss_end_{n}"] = rss_mb(pid)
    if args.postgres and n == 10_000:
        measure_pg_search(args, work, n, rows)


def measure_pg_search(args: argparse.Namespace, work: Path, n: int, rows: list[Row]) -> None:
    from tests.support import postgres

    pg = postgres.start()
    try:
        url = pg.create_database(f"scale_{n}")
        data = work / f"hub-pg-{n}"
        names = seed(data, n, args.seed, url)
        rng = random.Random(args.seed)
        env = {"PYSETL_HUB_DATA_DIR": str(data), "PYSETL_HUB_DATABASE_URL": url}
        with serving(args.server_bin, data, env) as (base, _pid, _startup):
            searches = [f"/api/v1/search?q={w.replace(' ', '+')}" for w in WORDS]
            searches += [f"/api/v1/search?q={x.split('-')[0][:5]}" for x in rng.sample(names, 40)]
            warm(base, searches)
            rows.append(
                Row(n, "postgresql", "search", wrk(base, searches, CONNECTIONS, args.seconds, work))
            )
            pages = [f"/simple/{x}/" for x in rng.sample(names, 1000)]
            warm(base, pages)
            rows.append(
                Row(
                    n,
                    "postgresql",
                    "warm /simple/{name}/",
                    wrk(base, pages, CONNECTIONS, args.seconds, work),
                )
            )
    finally:
        pg.stop()


def measure_replicas(args: argparse.Namespace, work: Path, rows: list[Row]) -> None:
    from scale_nginx import nginx_in_front

    n = min(args.sizes)
    data = work / f"hub-{n}"
    names = seed(data, n, args.seed)
    rng = random.Random(args.seed)
    pages = [f"/simple/{x}/" for x in rng.sample(names, min(1000, len(names)))]
    for count in args.replicas:
        with replicas_on(args, data, count) as bases, nginx_in_front(bases, work) as front:
            for b in bases:
                warm(b, pages)
            wheel = httpx.get(
                f"{front}{pages[0]}", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
            ).json()["files"][0]["url"]
            for b in bases:
                warm(b, [wheel])
            rows.append(
                Row(
                    n,
                    f"sqlite, {count} behind nginx",
                    "warm /simple/{name}/",
                    wrk(front, pages, CONNECTIONS, args.seconds, work),
                )
            )
            rows.append(
                Row(
                    n,
                    f"sqlite, {count} behind nginx",
                    "wheel download (48 KB)",
                    wrk(front, [wheel], CONNECTIONS, args.seconds, work),
                )
            )


@contextmanager
def replicas_on(args: argparse.Namespace, data: Path, count: int) -> Iterator[list[str]]:
    from contextlib import ExitStack

    with ExitStack() as stack:
        bases = []
        for _ in range(count):
            base, _pid, _s = stack.enter_context(
                serving(args.server_bin, data, {"PYSETL_HUB_DATA_DIR": str(data)})
            )
            bases.append(base)
        yield bases


def report(rows: list[Row], facts: dict[str, object], args: argparse.Namespace) -> list[str]:
    out = [
        "| size | database | endpoint | req/s | p50 ms | p99 ms | errors |",
        "|---:|---|---|---:|---:|---:|---|",
    ]
    for r in rows:
        out.append(
            f"| {r.size:,} | {r.database} | {r.what} | {r.run.rps:,.0f} | "
            f"{r.run.p50:.2f} | {r.run.p99:.2f} | {r.run.errors} |"
        )
    out.append("")
    out.append(
        "| size | start-up s | PSS at start MB | PSS after MB | /simple/ gzip / identity bytes |"
    )
    out.append("|---:|---:|---:|---:|---|")
    for n in args.sizes:
        root = facts.get(f"root_{n}")
        root_text = f"{root[0]:,} ({root[1]}) / {root[2]:,}" if isinstance(root, tuple) else ""
        out.append(
            f"| {n:,} | {facts.get(f'startup_{n}', 0):.2f} | "
            f"{facts.get(f'rss_start_{n}', 0):.0f} | {facts.get(f'rss_end_{n}', 0):.0f} | "
            f"{root_text} |"
        )
    return out


def goals(rows: list[Row], facts: dict[str, object], args: argparse.Namespace) -> list[str]:
    def find(size: int, what: str, db: str = "sqlite") -> Run | None:
        return next(
            (r.run for r in rows if r.size == size and r.what == what and r.database == db), None
        )

    out = []

    def check(label: str, ok: bool, detail: str) -> None:
        out.append(f"{'PASS' if ok else 'FAIL'}  {label}: {detail}")

    for n in args.sizes:
        if run := find(n, "JSON API component"):
            check(
                f"JSON API >= {GOAL_RPS:,} req/s at {n:,}", run.rps >= GOAL_RPS, f"{run.rps:,.0f}"
            )
        if run := find(n, "unknown /simple/{name}/ (404)"):
            check(
                f"unknown names >= {GOAL_RPS:,} req/s at {n:,}",
                run.rps >= GOAL_RPS,
                f"{run.rps:,.0f}",
            )
        if run := find(n, "cold /simple/{name}/ (first 3 s)"):
            check(
                f"cold start p99 < {GOAL_COLD_P99:.0f} ms at {n:,}",
                run.p99 < GOAL_COLD_P99,
                f"{run.p99:.1f} ms",
            )
        root = facts.get(f"root_{n}")
        if isinstance(root, tuple):
            check(
                f"/simple/ served compressed at {n:,}", root[1] == "gzip", f"{root[0]:,} bytes gzip"
            )
    for db in ("sqlite", "postgresql"):
        if run := find(10_000, "search", db):
            check(
                f"search p99 < {GOAL_SEARCH_P99:.0f} ms at 10,000 ({db})",
                run.p99 < GOAL_SEARCH_P99,
                f"{run.p99:.1f} ms",
            )
    small, big = min(args.sizes), max(args.sizes)
    if small != big:
        a, b = find(small, "warm /simple/{name}/"), find(big, "warm /simple/{name}/")
        if a and b:
            check(
                f"page p99 flat ({big:,} within {FLAT}x of {small:,})",
                b.p99 <= FLAT * max(a.p99, 1.0),
                f"{a.p99:.2f} -> {b.p99:.2f} ms",
            )
    budget = 128 + 128 + 200  # page and file budgets (MiB) and the interpreter, roughly
    for n in args.sizes:
        rss = facts.get(f"rss_end_{n}")
        if isinstance(rss, float):
            check(
                f"memory (PSS) within budget at {n:,}",
                rss < budget,
                f"{rss:.0f} MB (< {budget} MB)",
            )
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    sizes = os.environ.get("SIZES") or "1000,10000,100000"
    ap.add_argument("--sizes", default=sizes, type=lambda v: [int(x) for x in v.split(",")])
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--postgres", action="store_true")
    ap.add_argument("--replicas", default="", type=lambda v: [int(x) for x in v.split(",") if x])
    ap.add_argument(
        "--server-bin", type=Path, default=Path(sys.executable).parent / "pysetl-hub-server"
    )
    ap.add_argument("--workdir", type=Path)
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: sh scripts/system-deps.sh bench")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="scale-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    facts: dict[str, object] = {}
    print(
        f"server: {args.server_bin}; wrk -c{CONNECTIONS} -d{args.seconds}s; work dir {work}",
        file=sys.stderr,
    )
    for n in args.sizes:
        print(f"size {n:,}", file=sys.stderr)
        measure_size(args, work, n, rows, facts)
    if args.replicas:
        measure_replicas(args, work, rows)
    lines = [*report(rows, facts, args), "", *goals(rows, facts, args)]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
