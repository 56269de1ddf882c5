"""The server installs and serves without the client distribution (an operator's image)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.postgres import free_port

pytestmark = pytest.mark.interop
ROOT = Path(__file__).resolve().parents[2]
UV = Path(sys.executable).parent / "uv"


def test_schemas_provenance_server_are_enough_to_serve(tmp_path: Path) -> None:
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(Path(sys.executable).parents[1])}
    pins = tmp_path / "pins.txt"
    # The locked versions of the server's own dependencies (no workspace member among them).
    subprocess.run(
        [
            *(str(UV), "export", "--frozen", "--package", "pysetl-hub-server", "--no-dev"),
            *("--no-emit-workspace", "--no-hashes", "-q", "-o", str(pins)),
        ],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    venv = tmp_path / "venv"
    subprocess.run([str(UV), "venv", "-q", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run(
        [str(UV), "pip", "install", "-q", "--python", str(python), "-r", str(pins)]
        + [str(ROOT / d) for d in ("schemas", "provenance", "server")],
        env={k: v for k, v in env.items() if k != "UV_PROJECT_ENVIRONMENT"},
        check=True,
        timeout=600,
    )
    probe = subprocess.run(
        [str(python), "-c", "import importlib.util as u; print(u.find_spec('pysetl_hub'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.strip() == "None", "the client distribution came along with the server"

    port = free_port()
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen(
        [
            *(str(venv / "bin" / "pysetl-hub-server"), "--data-dir", str(tmp_path / "data")),
            *("serve", "--port", str(port)),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"{url}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, (tmp_path / "server.log").read_text()
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        assert health.status_code == 200
        assert httpx.get(f"{url}/simple/", timeout=10).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)
