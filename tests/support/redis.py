"""A throwaway Redis server (`redis-server` from the Debian package) on a free loopback port."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.parts import missing
from tests.support.postgres import free_port


@dataclass
class RedisServer:
    proc: subprocess.Popen[bytes]
    port: int
    root: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self, *args: str) -> bytes:
        """Send one command (RESP) and return the raw reply."""
        payload = f"*{len(args)}\r\n" + "".join(f"${len(a.encode())}\r\n{a}\r\n" for a in args)
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.sendall(payload.encode())
            return s.recv(65536)

    def flush(self) -> None:
        assert self.command("FLUSHALL").startswith(b"+OK")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        shutil.rmtree(self.root, ignore_errors=True)


def start() -> RedisServer:
    # PYSETL_HUB_TEST_REDIS_SERVER overrides (a path that is not there: "not installed").
    override = os.environ.get("PYSETL_HUB_TEST_REDIS_SERVER")
    binary = (override if os.access(override, os.X_OK) else None) if override else None
    if not override:
        binary = shutil.which("redis-server")
    if binary is None:
        raise FileNotFoundError("redis-server is not installed")
    root = Path(tempfile.mkdtemp(prefix="pysetl-hub-redis-"))
    port = free_port()
    proc = subprocess.Popen(
        [
            binary,
            "--port", str(port), "--bind", "127.0.0.1", "--dir", str(root),
            "--save", "", "--appendonly", "no", "--protected-mode", "yes",
        ],
        stdout=(root / "log").open("wb"),
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    server = RedisServer(proc, port, root)
    deadline = time.monotonic() + 30
    while True:
        try:
            if server.command("PING").startswith(b"+PONG"):
                return server
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"redis-server did not start:\n{(root / 'log').read_text()}")
        time.sleep(0.05)


def start_or_missing() -> RedisServer:
    """`start()`, or the missing-part answer: a skip naming the fix, a failure under CI=true."""
    try:
        return start()
    except FileNotFoundError:
        missing("Redis (redis-server)", "`make test` installs it (apt-get install redis-server)")
