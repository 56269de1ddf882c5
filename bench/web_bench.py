"""Web marketplace latency: component page, search as you type, home (run by hand).

    .venv/bin/python bench/web_bench.py [--components 500] [--releases 5]
        [--search-components 10000] [--seconds 10] [--runs 2] [--postgres] [--workdir DIR]

`make bench-web` runs it with the defaults. Two catalogues, each served by
`pysetl-hub-server serve` (granian, one worker, SQLite in the data directory, as `make serve`):

A. 500 components x 5 releases loaded through the real upload API (index_bench's loader). wrk
   at 64 connections on 100 different component pages (a Lua script rotates through them, all
   rendered once first so the page memo is warm) and on the home page. Goal: component p99
   under 20 ms.
B. 10,000 components seeded the way search_bench does (rows and search documents straight into
   the database). wrk rotates through prefixes as someone types them ("d", "de", "ded", ...,
   words of the catalogue, some with a facet such as &kind=factory) with `HX-Request: true`
   (the results fragment htmx asks for), at 10 and 64 connections; also the full search page
   and the home page. Goal: fragment p99 under 30 ms.

Other people share this machine, so every measurement runs `--runs` times (default 2) and the
report gives the better and the worse run. Results go to bench/results/ (JSON and Markdown).
With --postgres, catalogue B is served a second time from a throwaway PostgreSQL.
With --workdir, catalogues already loaded in that directory are reused (faster reruns).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from index_bench import make_catalog, upload_all, wait_up  # noqa: E402
from search_bench import _unique, generate, load  # noqa: E402

from pysetl_hub_server.db.migrate import upgrade  # noqa: E402
from pysetl_hub_server.runtime import open_hub  # noqa: E402
from pysetl_hub_server.search.engine import Document  # noqa: E402
from pysetl_hub_server.settings import Settings  # noqa: E402
from tests.support.postgres import free_port  # noqa: E402

BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"
GOAL_COMPONENT_P99 = 20.0  # ms, 64 connections, warm
GOAL_TYPEAHEAD_P99 = 30.0  # ms, 10,000 components

# wrk runs this once per thread; each thread starts at its own place in the list of paths.
LUA = """
paths = {%(paths)s}
local n = 0
function setup(thread)
  n = n + 1
  thread:set("offset", n * 37)
end
function init(args)
  counter = offset or 0
end
function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
"""


@dataclass
class Run:
    rps: float
    p50: float
    p99: float
    requests: int
    errors: str  # socket errors / non-2xx, as wrk words them ("" when none)


@dataclass
class Row:
    catalogue: str
    database: str
    what: str
    urls: int
    connections: int
    runs: list[Run]
    goal: float | None = None

    @property
    def best(self) -> Run:
        return min(self.runs, key=lambda r: r.p99)

    @property
    def worst(self) -> Run:
        return max(self.runs, key=lambda r: r.p99)


def wrk(
    base: str,
    paths: list[str],
    connections: int,
    seconds: int,
    script_dir: Path,
    headers: dict[str, str] | None = None,
) -> Run:
    script = script_dir / f"rotate-{uuid.uuid4().hex[:8]}.lua"
    script.write_text(LUA % {"paths": ", ".join(json.dumps(p) for p in paths)})
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    args += ["-s", str(script)]
    for k, v in (headers or {}).items():
        args += ["-H", f"{k}: {v}"]
    out = subprocess.run([*args, base], capture_output=True, text=True, check=True).stdout

    def num(pattern: str) -> float:
        m = re.search(pattern, out)
        assert m, out
        return float(m.group(1))

    def pct(p: str) -> float:
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)\b", out)
        assert m, out
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    errors = []
    if m := re.search(r"Socket errors:.*", out):
        errors.append(m.group(0).strip())
    if m := re.search(r"Non-2xx or 3xx responses:\s+\d+", out):
        errors.append(m.group(0).strip())
    return Run(
        rps=num(r"Requests/sec:\s+([\d.]+)"),
        p50=pct("50"),
        p99=pct("99"),
        requests=int(num(r"(\d+) requests in")),
        errors="; ".join(errors),
    )


def warm(base: str, paths: list[str], headers: dict[str, str] | None = None) -> None:
    """Ask for every page once (fills the page memo, compiles templates) and check it works."""
    with httpx.Client(base_url=base, timeout=60, headers=headers) as client:
        for p in paths:
            r = client.get(p)
            if r.status_code != 200:
                raise RuntimeError(f"GET {p} answered {r.status_code}: {r.text[:500]}")


def cli(data: Path) -> list[str]:
    return [str(BIN / "pysetl-hub-server"), "--data-dir", str(data)]


@contextmanager
def bare_litestar() -> Iterator[str]:
    """bench/bare_app.py under granian, one worker: the ceiling of any Litestar page here."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "bare_app.py"), str(port), "granian"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_up(f"{base}/", proc)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@contextmanager
def serving(data: Path, env: dict[str, str] | None = None) -> Iterator[tuple[str, int]]:
    """`pysetl-hub-server serve` on a free port, as `make serve` starts it (granian, 1 worker);
    the access log is off so that wrk measures the pages, not the logging of them."""
    port = free_port()
    proc = subprocess.Popen(
        [*cli(data), "serve", "--port", str(port), "--no-access-log"],
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_up(f"{base}/readyz", proc)
        yield base, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def load_catalogue_a(data: Path, work: Path, components: int, releases: int) -> None:
    """Components and releases through the upload API (the same loader as index_bench)."""
    done = data / ".loaded"
    if done.exists() and done.read_text() == f"{components}x{releases}":
        print(f"catalogue A: reusing {data}", file=sys.stderr)
        return
    shutil.rmtree(data, ignore_errors=True)
    subprocess.run([*cli(data), "db", "upgrade"], check=True, capture_output=True)
    subprocess.run(
        [*cli(data), "users", "create", "bench", "--email", "b@example.org"],
        input=b"benchpass\n",
        check=True,
        capture_output=True,
    )
    token = subprocess.run(
        [*cli(data), "tokens", "create", "bench"], check=True, capture_output=True, text=True
    ).stdout.strip()
    files = make_catalog(work, components, releases)
    # the catalogue loads far faster than people publish: past the per-user/token limits
    env = {"PYSETL_HUB_RATE_LIMITS": "create_name=1000000/hour,upload=1000000/hour"}
    t0 = time.monotonic()
    with serving(data, env) as (base, _pid):
        # a few uploads in flight: the server hashes and stores one while it reads the next
        chunks = [files[i::4] for i in range(4)]
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda chunk: upload_all(base, token, chunk), chunks))
    print(f"catalogue A: {len(files)} uploads in {time.monotonic() - t0:.0f}s", file=sys.stderr)
    shutil.rmtree(work / "catalog", ignore_errors=True)
    shutil.rmtree(work / "example", ignore_errors=True)
    done.write_text(f"{components}x{releases}")


def search_docs(n: int, seed: int) -> list[Document]:
    """search_bench's generated catalogue of `n` components (its 10k set for n=10,000)."""
    first = generate(1000, random.Random(seed))[0]
    more = generate(max(n + 2000 - 1000, 0), random.Random(seed + 1))[0]
    return [replace(d, id=i + 1) for i, d in enumerate(_unique(first + more)[:n])]


def load_catalogue_b(
    data: Path, n: int, seed: int, database_url: str | None = None
) -> list[Document]:
    """Rows and search documents straight into the database, as search_bench seeds them."""
    docs = search_docs(n, seed)
    done = data / ".loaded"
    if database_url is None and done.exists() and done.read_text() == f"{n}/{seed}":
        print(f"catalogue B: reusing {data}", file=sys.stderr)
        return docs
    if database_url is None:
        shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True, exist_ok=True)
    settings = Settings(data_dir=data, database_url=database_url)
    url = settings.effective_database_url

    async def seed_all() -> None:
        await asyncio.to_thread(upgrade, url)
        async with open_hub(settings) as hub:
            await hub.search.start()
            await load(hub.search, hub.sessions, docs)

    t0 = time.monotonic()
    asyncio.run(seed_all())
    print(f"catalogue B: {len(docs)} components in {time.monotonic() - t0:.0f}s", file=sys.stderr)
    if database_url is None:
        done.write_text(f"{n}/{seed}")
    return docs


def typed_queries(docs: list[Document], rng: random.Random, count: int = 200) -> list[str]:
    """Query strings as the box sends them while someone types: every prefix of a few words,
    some two-word queries, some with a facet ticked."""
    vocabulary: set[str] = set()
    for d in docs:
        vocabulary.update(w.lower() for w in re.findall(r"[A-Za-z]{3,}", d.summary))
        vocabulary.update(d.name.split("-"))
    words = sorted(w for w in vocabulary if len(w) >= 3 and not w.isdigit())
    typed = ["dedupe", "csv", "sales p", "kafka sink", "parquet", "delta w", "mask pii"]
    typed += rng.sample(words, 25)
    typed += [f"{a} {b}" for a, b in zip(rng.sample(words, 6), rng.sample(words, 6), strict=True)]
    facets = [{}, {}, {}, {"kind": "factory"}, {"kind": "pipeline"}, {"verified": "true"}]
    facets += [{"license": "MIT"}, {"kind": "factory", "sort": "newest"}]
    out: list[str] = []
    for text in typed:
        facet = rng.choice(facets)
        for i in range(1, len(text) + 1):
            q = text[:i]
            if q.endswith(" "):
                continue  # the box waits for the next letter
            out.append("/search?" + urlencode({"q": q, **facet}, quote_via=quote))
    rng.shuffle(out)
    # keep the typing order within a word (d, de, ded...) visible at the head of the list
    head = ["/search?q=d", "/search?q=de", "/search?q=ded", "/search?q=dedu", "/search?q=csv"]
    head += ["/search?q=sales%20p", "/search?q=csv&kind=factory", "/search?q=de&kind=factory"]
    return (head + [u for u in out if u not in head])[:count]


def measure(
    rows: list[Row],
    *,
    catalogue: str,
    database: str,
    what: str,
    base: str,
    paths: list[str],
    connections: int,
    args: argparse.Namespace,
    work: Path,
    headers: dict[str, str] | None = None,
    goal: float | None = None,
) -> Row:
    runs = []
    for i in range(args.runs):
        run = wrk(base, paths, connections, args.seconds, work, headers)
        runs.append(run)
        flag = f"  !! {run.errors}" if run.errors else ""
        print(
            f"[{catalogue} {database}] {what:28} c={connections:<3} run {i + 1}: "
            f"{run.rps:8.0f} req/s  p50 {run.p50:7.2f} ms  p99 {run.p99:7.2f} ms{flag}",
            file=sys.stderr,
        )
    row = Row(catalogue, database, what, len(paths), connections, runs, goal)
    rows.append(row)
    return row


def bench_b(
    rows: list[Row],
    base: str,
    database: str,
    docs: list[Document],
    args: argparse.Namespace,
    work: Path,
) -> None:
    label = f"B: {len(docs):,} components (seeded)"
    typed = typed_queries(docs, random.Random(args.seed))
    hx = {"HX-Request": "true"}
    warm(base, typed, hx)
    warm(base, typed[:20])
    warm(base, ["/"])
    for c in (10, 64):
        measure(
            rows, catalogue=label, database=database, what="search fragment (HX-Request)",
            base=base, paths=typed, connections=c, args=args, work=work, headers=hx,
            goal=GOAL_TYPEAHEAD_P99,
        )  # fmt: skip
    measure(
        rows, catalogue=label, database=database, what="search full page",
        base=base, paths=typed, connections=64, args=args, work=work,
    )  # fmt: skip
    measure(
        rows, catalogue=label, database=database, what="home /",
        base=base, paths=["/"], connections=64, args=args, work=work,
    )  # fmt: skip


def markdown(rows: list[Row], meta: dict[str, object]) -> str:
    lines = [
        f"Web pages benchmark, {meta['when']} (commit {meta['commit']})",
        "",
        f"- machine: {meta['machine']}",
        f"- server: {meta['server']}",
        f"- load: {meta['load']}",
        f"- catalogue A: {meta['catalogue_a']}",
        f"- catalogue B: {meta['catalogue_b']}",
        "",
        "| catalogue | database | page | URLs | conns | req/s (better / worse) "
        "| p50 ms (better / worse) | p99 ms (better / worse) | goal p99 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        b, w = r.best, r.worst
        goal = ""
        if r.goal is not None:
            verdict = "met" if w.p99 < r.goal else "better run only" if b.p99 < r.goal else "MISSED"
            goal = f"< {r.goal:.0f} ms: {verdict}"
        errors = "; ".join(sorted({run.errors for run in r.runs if run.errors}))
        lines.append(
            f"| {r.catalogue} | {r.database} | {r.what} | {r.urls} | {r.connections} "
            f"| {b.rps:,.0f} / {w.rps:,.0f} | {b.p50:.2f} / {w.p50:.2f} "
            f"| {b.p99:.2f} / {w.p99:.2f} | {goal}{' (' + errors + ')' if errors else ''} |"
        )
    return "\n".join(lines) + "\n"


def git_commit() -> str:
    out = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--", "server"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return out.stdout.strip() + ("+dirty" if dirty else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--components", type=int, default=500)
    ap.add_argument("--releases", type=int, default=5)
    ap.add_argument("--pages", type=int, default=100, help="component pages wrk rotates through")
    ap.add_argument("--search-components", type=int, default=10_000)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--runs", type=int, default=2, help="runs of each measurement")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--postgres", action="store_true", help="also serve catalogue B from PG")
    ap.add_argument("--skip-a", action="store_true", help="catalogue B only")
    ap.add_argument("--skip-b", action="store_true", help="catalogue A only")
    ap.add_argument("--workdir", type=Path, help="keep (and reuse) the catalogues here")
    ap.add_argument("--load-only", action="store_true", help="load the catalogues, measure nothing")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: sh scripts/system-deps.sh bench (make bench-web does it)")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="web-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    try:
        if args.load_only:
            if not args.skip_a:
                load_catalogue_a(work / "hub-a", work, args.components, args.releases)
            if not args.skip_b:
                load_catalogue_b(work / "hub-b", args.search_components, args.seed)
            return
        if not args.skip_a:
            data = work / "hub-a"
            load_catalogue_a(data, work, args.components, args.releases)
            label = f"A: {args.components} x {args.releases} releases (upload API)"
            names = [f"bench-component-{i:04d}" for i in range(args.components)]
            pages = [f"/components/{n}" for n in random.Random(args.seed).sample(names, args.pages)]
            with serving(data) as (base, _pid):
                warm(base, pages)
                warm(base, ["/", "/search?q=bench"])
                measure(
                    rows, catalogue=label, database="SQLite", what="component page (warm)",
                    base=base, paths=pages, connections=64, args=args, work=work,
                    goal=GOAL_COMPONENT_P99,
                )  # fmt: skip
                measure(
                    rows, catalogue=label, database="SQLite", what="home /",
                    base=base, paths=["/"], connections=64, args=args, work=work,
                )  # fmt: skip
            with bare_litestar() as base:
                measure(
                    rows, catalogue="reference", database="-",
                    what="bare Litestar constant page", base=base, paths=["/"], connections=64,
                    args=args, work=work,
                )  # fmt: skip
        if not args.skip_b:
            data = work / "hub-b"
            docs = load_catalogue_b(data, args.search_components, args.seed)
            with serving(data) as (base, _pid):
                bench_b(rows, base, "SQLite", docs, args, work)
            if args.postgres:
                from tests.support import postgres

                pg = postgres.start()
                try:
                    url = pg.create_database(f"webbench_{uuid.uuid4().hex[:8]}")
                    pg_data = work / "hub-b-pg"
                    docs = load_catalogue_b(pg_data, args.search_components, args.seed, url)
                    with serving(pg_data, {"PYSETL_HUB_DATABASE_URL": url}) as (base, _pid):
                        bench_b(rows, base, "PostgreSQL", docs, args, work)
                finally:
                    pg.stop()
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    meta: dict[str, object] = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git_commit(),
        "machine": f"{os.cpu_count()} CPUs (shared with other people's test runs), "
        f"{platform.system()} {platform.machine()}, Python {platform.python_version()}",
        "server": "pysetl-hub-server serve: granian, 1 worker process, --no-access-log, "
        "default settings (SQLite in the data directory unless the row says PostgreSQL)",
        "load": f"wrk -t2 -c<conns> -d{args.seconds}s --latency --timeout 10s, a Lua script "
        f"rotating through <URLs> paths (all requested once before); {args.runs} runs each, "
        "better/worse by p99; no If-None-Match (full 200 bodies)",
        "catalogue_a": f"{args.components} components x {args.releases} releases uploaded "
        f"through the upload API; {args.pages} component pages in rotation",
        "catalogue_b": f"{args.search_components:,} components seeded as search_bench does; "
        "typed prefixes (d, de, ded, dedu, csv, sales p, catalogue words, some with "
        "kind/verified/license facets)",
    }
    table = markdown(rows, meta)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"web-{stamp}.md").write_text(table)
    (RESULTS / f"web-{stamp}.json").write_text(
        json.dumps({"meta": meta, "rows": [asdict(r) for r in rows]}, indent=2)
    )
    print("\n" + table)
    print(f"written to {RESULTS / f'web-{stamp}.md'}", file=sys.stderr)


if __name__ == "__main__":
    main()
