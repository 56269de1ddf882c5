"""Real clients against a real server process: twine uploads, pip and uv install.

The server runs as `pysetl-hub-server serve` in a subprocess on a free loopback port, set up
with the same CLI an operator uses. pip runs with --isolated so only this hub answers (the
machine's global pip config points at other indexes).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.dists import repack
from tests.support.postgres import free_port

pytestmark = pytest.mark.interop
BIN = Path(sys.executable).parent


@dataclass
class ServerProcess:
    url: str
    token: str
    data_dir: Path


def cli(data_dir: Path, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [str(BIN / "pysetl-hub-server"), "--data-dir", str(data_dir), *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return result.stdout


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data_dir = tmp_path_factory.mktemp("hub") / "hub-data"
    cli(data_dir, "db", "upgrade")
    cli(data_dir, "users", "create", "alice", "--email", "alice@example.org", stdin="s3cret-pass\n")
    token = cli(data_dir, "tokens", "create", "alice").strip()
    assert token.startswith("pshub_") and "\n" not in token
    port = free_port()
    log = (data_dir.parent / "server.log").open("w")
    proc = subprocess.Popen(
        [str(BIN / "pysetl-hub-server"), "--data-dir", str(data_dir), "serve", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/readyz").status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError((data_dir.parent / "server.log").read_text())
        time.sleep(0.1)
    yield ServerProcess(url, token, data_dir)
    proc.terminate()
    proc.wait(timeout=30)
    log.close()
    # Tokens must never reach the server log in clear.
    assert token not in (data_dir.parent / "server.log").read_text()


def twine(
    server: ServerProcess, *files: Path, options: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(BIN / "twine"),
            "upload",
            *options,
            "--non-interactive",
            "--disable-progress-bar",
            "--repository-url",
            f"{server.url}/legacy/",
            "-u",
            "__token__",
            "-p",
            server.token,
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def pip(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    return subprocess.run(
        [sys.executable, "-m", "pip", "--isolated", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )


@pytest.fixture(scope="module")
def uploaded(
    server: ServerProcess, example_dists: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> ServerProcess:
    files = [
        example_dists[k]
        for k in (
            "csv-dedupe:wheel",
            "csv-dedupe:sdist",
            "daily-sales-pipeline:wheel",
            "daily-sales-pipeline:sdist",
        )
    ]
    result = twine(server, *files)
    assert result.returncode == 0, result.stdout + result.stderr
    # 1.1.0 is published and then yanked.
    newer = repack(
        example_dists["csv-dedupe:wheel"], tmp_path_factory.mktemp("newer"), version="1.1.0"
    )
    assert twine(server, newer).returncode == 0
    r = httpx.post(
        f"{server.url}/api/v1/components/csv-dedupe/1.1.0/yank",
        json={"reason": "broken"},
        headers={"Authorization": f"Bearer {server.token}"},
    )
    assert r.status_code == 200, r.text
    return server


def test_twine_reports_rule_violations(
    server: ServerProcess, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    def no_eps(m: dict[str, bytes]) -> None:
        del m[next(k for k in m if k.endswith("entry_points.txt"))]

    bad = repack(example_dists["csv-dedupe:wheel"], tmp_path, name="not-a-component", mutate=no_eps)
    result = twine(server, bad)
    assert result.returncode != 0
    assert "400" in result.stdout + result.stderr


def test_twine_skip_existing_and_reupload(
    uploaded: ServerProcess, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    result = twine(uploaded, example_dists["csv-dedupe:wheel"])
    assert result.returncode == 0, result.stderr  # same bytes again: a no-op
    # Other bytes under a published filename: refused (409), which --skip-existing skips.
    other = repack(
        example_dists["csv-dedupe:wheel"],
        tmp_path,
        mutate=lambda m: m.__setitem__("csv_dedupe/extra.py", b"# other bytes\n"),
    )
    assert other.name == example_dists["csv-dedupe:wheel"].name
    refused = twine(uploaded, other)
    assert refused.returncode != 0 and "409" in refused.stdout + refused.stderr
    # twine 6 allows --skip-existing only against PyPI and TestPyPI, whatever the index says;
    # `pysetl-hub publish --skip-existing` is the way to skip (tests/client/test_cli.py).
    skipped = twine(uploaded, other, options=("--skip-existing",))
    assert skipped.returncode != 0
    assert "--skip-existing" in skipped.stdout + skipped.stderr


def test_pip_installs_from_the_hub(uploaded: ServerProcess, tmp_path: Path) -> None:
    target = tmp_path / "t"
    result = pip(
        "install",
        "--index-url",
        f"{uploaded.url}/simple/",
        "--no-deps",
        "--target",
        str(target),
        "csv-dedupe",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    infos = sorted(p.name for p in target.glob("*.dist-info"))
    assert infos == ["csv_dedupe-1.0.0.dist-info"]  # 1.1.0 is yanked
    assert (target / "csv_dedupe" / "__init__.py").exists()


def test_uv_installs_from_the_hub(uploaded: ServerProcess, tmp_path: Path) -> None:
    target = tmp_path / "t"
    env = {**os.environ, "UV_CACHE_DIR": str(tmp_path / "uv-cache"), "UV_NO_CONFIG": "1"}
    result = subprocess.run(
        [
            str(BIN / "uv"),
            "pip",
            "install",
            "--python",
            sys.executable,
            "--no-deps",
            "--index-url",
            f"{uploaded.url}/simple/",
            "--target",
            str(target),
            "daily-sales-pipeline",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.name for p in target.glob("*.dist-info")) == [
        "daily_sales_pipeline-0.3.0.dist-info"
    ]


def test_pip_download_needs_an_exact_pin_for_a_yanked_release(
    uploaded: ServerProcess, tmp_path: Path
) -> None:
    index = ["--index-url", f"{uploaded.url}/simple/", "--no-deps", "--only-binary", ":all:"]
    plain = pip("download", *index, "-d", str(tmp_path / "a"), "csv-dedupe")
    assert plain.returncode == 0, plain.stderr
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["csv_dedupe-1.0.0-py3-none-any.whl"]
    ranged = pip("download", *index, "-d", str(tmp_path / "b"), "csv-dedupe>=1.1")
    assert ranged.returncode != 0
    pinned = pip("download", *index, "-d", str(tmp_path / "c"), "csv-dedupe==1.1.0")
    assert pinned.returncode == 0, pinned.stderr
    assert [p.name for p in (tmp_path / "c").iterdir()] == ["csv_dedupe-1.1.0-py3-none-any.whl"]
    assert "yanked" in (pinned.stdout + pinned.stderr).lower()
