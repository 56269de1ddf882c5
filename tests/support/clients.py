"""Real clients against a real server process: `pysetl-hub-server serve` in a subprocess, set up
with the same CLI an operator uses, and twine, pip and uv run as programs.

pip runs with --isolated and with PIP_CONFIG_FILE=/dev/null (so the build-isolation subprocess
that pip starts, which does not inherit --isolated, loads no config file either): only the
index a test names answers. uv runs with UV_NO_CONFIG=1 and none of the machine's UV_* settings.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.postgres import free_port

BIN = Path(sys.executable).parent


@dataclass
class ServerProcess:
    url: str
    token: str
    data_dir: Path


def server_cli(data_dir: Path, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [str(BIN / "pysetl-hub-server"), "--data-dir", str(data_dir), *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return result.stdout


@contextmanager
def server_process(root: Path) -> Iterator[ServerProcess]:
    """A hub on a free loopback port with one user, alice, and her API token."""
    data_dir = root / "hub-data"
    server_cli(data_dir, "db", "upgrade")
    server_cli(
        data_dir, "users", "create", "alice", "--email", "alice@example.org", stdin="s3cret-pass\n"
    )
    token = server_cli(data_dir, "tokens", "create", "alice").strip()
    assert token.startswith("pshub_") and "\n" not in token
    port = free_port()
    log_path = root / "server.log"
    log = log_path.open("w")
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
            raise RuntimeError(log_path.read_text())
        time.sleep(0.1)
    try:
        yield ServerProcess(url, token, data_dir)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    # Tokens must never reach the server log in clear.
    assert token not in log_path.read_text()


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


def pip_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    return env


def pip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", "--isolated", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=pip_env(),
    )


def uv_env(cache: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("UV_")}
    env["UV_NO_CONFIG"] = "1"
    if cache is not None:
        env["UV_CACHE_DIR"] = str(cache)
    elif "UV_CACHE_DIR" in os.environ:
        env["UV_CACHE_DIR"] = os.environ["UV_CACHE_DIR"]
    return env


def uv(
    *args: str, cache: Path | None = None, timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    """`uv ARGS`; `cache` gives it a cache of its own (a fresh one for a true first install)."""
    return subprocess.run(
        [str(BIN / "uv"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=uv_env(cache),
    )
