"""Index and download benchmark: PySetl Hub against pypiserver, same files, same machine.

Run by hand (`make bench`); needs wrk. Loads a catalog (default 500 components x 5 releases)
through the real upload API, then measures with wrk at 16 and 64 connections:
`/simple/{name}/` (JSON and HTML), `/simple/`, a wheel download; the same URLs on pypiserver
(cached backend, gunicorn, 2 workers) and a bare Litestar app returning a constant page.
Also: publish p50 of a ~100 KB wheel, RSS growth while a 100 MiB upload streams, and
`pip install` / `uv pip install` wall time from each server.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.support.dists import build_example, repack  # noqa: E402
from tests.support.postgres import free_port  # noqa: E402

BIN = Path(sys.executable).parent
JSON = "application/vnd.pypi.simple.v1+json"


def wait_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.args}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def wrk(
    url: str, connections: int, seconds: int, headers: dict[str, str] | None = None
) -> tuple[float, float, float]:
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for k, v in (headers or {}).items():
        args += ["-H", f"{k}: {v}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def pct(p: str) -> float:
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)
        assert m, out
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    if "Non-2xx" in out:
        raise RuntimeError(f"non-2xx answers from {url}:\n{out}")
    return rps, pct("50"), pct("99")


def make_catalog(work: Path, components: int, releases: int) -> list[Path]:
    base = build_example("csv-dedupe", work / "example")
    wheel = next(p for p in base if p.suffix == ".whl")
    out = work / "catalog"
    files = []
    for i in range(components):
        for j in range(releases):
            files.append(repack(wheel, out, name=f"bench-component-{i:04d}", version=f"1.{j}.0"))
    return files


def upload_all(url: str, token: str, files: list[Path]) -> None:
    from tests.support.upload import upload

    with httpx.Client(base_url=url, timeout=60) as client:
        for f in files:
            r = upload(client, token, f)
            assert r.status_code == 200, r.text


def rss_kb(pid: int) -> int:
    """RSS of a process and all its descendants (granian serves from worker processes)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--components", type=int, default=500)
    ap.add_argument("--releases", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=10)
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk (make bench does it)")
    work = Path(tempfile.mkdtemp(prefix="hub-bench-"))
    data = work / "hub-data"
    cli = [str(BIN / "pysetl-hub-server"), "--data-dir", str(data)]
    subprocess.run([*cli, "db", "upgrade"], check=True, capture_output=True)
    subprocess.run(
        [*cli, "users", "create", "bench", "--email", "b@example.org"],
        input=b"benchpass\n",
        check=True,
        capture_output=True,
    )
    token = subprocess.run(
        [*cli, "tokens", "create", "bench"], check=True, capture_output=True, text=True
    ).stdout.strip()
    port = free_port()
    # A 200 MiB cap so the 100 MiB upload below really streams (the default is 50 MiB); the
    # catalogue loads far faster than a person publishes, past the per-user new-name and
    # per-token upload limits (20 and 300 an hour).
    hub_env = {
        **os.environ,
        "PYSETL_HUB_MAX_UPLOAD_SIZE": str(200 * 1024 * 1024),
        "PYSETL_HUB_RATE_LIMITS": "create_name=1000000/hour,upload=1000000/hour",
    }
    hub = subprocess.Popen(
        [*cli, "serve", "--port", str(port), "--no-access-log"],
        env=hub_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    hub_url = f"http://127.0.0.1:{port}"
    procs = [hub]
    rows: list[tuple[str, str, int, float, float, float]] = []
    try:
        wait_up(f"{hub_url}/readyz", hub)
        files = make_catalog(work, args.components, args.releases)
        t0 = time.monotonic()
        upload_all(hub_url, token, files)
        print(f"loaded {len(files)} files in {time.monotonic() - t0:.1f}s", file=sys.stderr)

        # pypiserver over the same files
        pkgdir = work / "pypiserver-packages"
        pkgdir.mkdir()
        for f in files:
            shutil.copy(f, pkgdir / f.name)
        venv = ROOT / "bench" / ".venv-pypiserver"
        if not (venv / "bin" / "gunicorn").exists() or not (venv / ".watchdog-pinned").exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run(
                [
                    str(venv / "bin" / "pip"),
                    "install",
                    "--isolated",
                    "-q",
                    "--index-url",
                    "https://pypi.org/simple",
                    "pypiserver[cache]==2.4.*",
                    # watchdog 2.3+ reports file-opened events, and pypiserver 2.4 drops its
                    # whole listing cache on any event: every request then re-reads the
                    # directory (~10 req/s here). Older watchdog gives the cache its best case.
                    "watchdog<2.3",
                    "gunicorn",
                    "passlib",
                ],
                check=True,
            )
            (venv / ".watchdog-pinned").touch()
        pport = free_port()
        pypi = subprocess.Popen(
            [
                str(venv / "bin" / "gunicorn"),
                "-w",
                "2",
                "-b",
                f"127.0.0.1:{pport}",
                f"pypiserver:app(roots=['{pkgdir}'], backend_arg='cached-dir', "
                "authenticate=[], password_file='.')",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(pypi)
        pypi_url = f"http://127.0.0.1:{pport}"
        wait_up(f"{pypi_url}/simple/", pypi)

        # bare Litestar constant page: the ceiling for any Litestar handler, under each server
        bare_urls = {}
        for server in ("granian", "uvicorn"):
            bport = free_port()
            bare = subprocess.Popen(
                [str(BIN / "python"), str(ROOT / "bench" / "bare_app.py"), str(bport), server],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            procs.append(bare)
            bare_urls[server] = f"http://127.0.0.1:{bport}"
            wait_up(f"{bare_urls[server]}/", bare)

        name = "bench-component-0042"
        hub_file = httpx.get(f"{hub_url}/simple/{name}/", headers={"Accept": JSON}).json()["files"][
            0
        ]["url"]
        pypi_page = httpx.get(f"{pypi_url}/simple/{name}/").text
        pypi_file = re.search(r'href="([^"#]+)', pypi_page).group(1)  # type: ignore[union-attr]
        pypi_file_url = httpx.URL(f"{pypi_url}/simple/{name}/").join(pypi_file)
        targets = [
            ("hub", "project JSON", f"{hub_url}/simple/{name}/", {"Accept": JSON}),
            ("hub", "project HTML", f"{hub_url}/simple/{name}/", None),
            ("hub", "root /simple/", f"{hub_url}/simple/", None),
            ("hub", "wheel download", f"{hub_url}{hub_file}", None),
            ("pypiserver", "project HTML", f"{pypi_url}/simple/{name}/", None),
            ("pypiserver", "root /simple/", f"{pypi_url}/simple/", None),
            ("pypiserver", "wheel download", str(pypi_file_url), None),
            ("bare litestar granian", "constant page", f"{bare_urls['granian']}/", None),
            ("bare litestar uvicorn", "constant page", f"{bare_urls['uvicorn']}/", None),
        ]
        for c in (16, 64):
            for who, what, url, headers in targets:
                rps, p50, p99 = wrk(url, c, args.seconds, headers)
                rows.append((who, what, c, rps, p50, p99))
                print(
                    f"{who:22} {what:16} c={c:<3} {rps:9.0f} req/s  "
                    f"p50 {p50:6.2f} ms  p99 {p99:6.2f} ms",
                    file=sys.stderr,
                )

        # publish latency of a ~100 KB wheel
        from tests.support.upload import upload

        base = files[0]
        lat = []
        with httpx.Client(base_url=hub_url, timeout=60) as client:
            for i in range(30):

                def pad(m: dict[str, bytes], i: int = i) -> None:
                    m["csv_dedupe/blob.bin"] = os.urandom(100_000)

                w = repack(base, work / "pub", name=f"pub-bench-{i}", version="1.0.0", mutate=pad)
                t = time.perf_counter()
                r = upload(client, token, w)
                lat.append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200, r.text
        publish_p50 = statistics.median(lat)

        # RSS while a 100 MiB upload streams
        def big_payload(m: dict[str, bytes]) -> None:
            m["csv_dedupe/big.bin"] = os.urandom(100 * 1024 * 1024)

        big = repack(base, work / "big", name="big-bench", version="1.0.0", mutate=big_payload)
        server_pid = hub.pid
        peak = [rss_kb(server_pid)]
        before = peak[0]
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], rss_kb(server_pid))
                time.sleep(0.02)

        th = threading.Thread(target=sample)
        th.start()
        with httpx.Client(base_url=hub_url, timeout=300) as client:
            r = upload(client, token, big)
        stop.set()
        th.join()
        rss_growth_mb = (peak[0] - before) / 1024

        # pip / uv install wall time
        def timed(cmd: list[str]) -> float:
            t = time.perf_counter()
            subprocess.run(
                cmd,
                check=True,
                capture_output=True,
                env={k: v for k, v in os.environ.items() if not k.startswith("PIP_")},
            )
            return time.perf_counter() - t

        installs: dict[tuple[str, str], list[float]] = {}
        for _round, who, index in [
            (r, who, index)
            for r in range(5)  # interleaved rounds, median reported: pip's start-up is noisy
            for who, index in (("hub", f"{hub_url}/simple/"), ("pypiserver", f"{pypi_url}/simple/"))
        ]:
            tgt = Path(tempfile.mkdtemp(dir=work))
            installs.setdefault((who, "pip"), []).append(
                timed(
                    [
                        sys.executable,
                        "-m",
                        "pip",
                        "--isolated",
                        "install",
                        "--no-deps",
                        "--no-cache-dir",
                        "--index-url",
                        index,
                        "--target",
                        str(tgt),
                        name,
                    ]
                )
            )
            tgt = Path(tempfile.mkdtemp(dir=work))
            installs.setdefault((who, "uv"), []).append(
                timed(
                    [
                        str(BIN / "uv"),
                        "pip",
                        "install",
                        "--no-config",
                        "--no-cache",
                        "--no-deps",
                        "--python",
                        sys.executable,
                        "--index-url",
                        index,
                        "--target",
                        str(tgt),
                        name,
                    ]
                )
            )

        print(
            "\n| server | endpoint | conns | req/s | p50 ms | p99 ms |\n|---|---|---|---|---|---|"
        )
        for who, what, c, rps, p50, p99 in rows:
            print(f"| {who} | {what} | {c} | {rps:,.0f} | {p50:.2f} | {p99:.2f} |")
        print(f"\npublish of a ~100 KB wheel: p50 {publish_p50:.1f} ms (30 uploads)")
        print(f"100 MiB upload (status {r.status_code}): server RSS growth {rss_growth_mb:.1f} MB")
        for (who, tool), times in sorted(installs.items()):
            print(f"{tool} install from {who}: median {statistics.median(times):.2f} s of 5")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
