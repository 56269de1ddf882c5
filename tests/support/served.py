"""`pysetl-hub-server serve` as a subprocess, optionally in a mount namespace of its own.

The fault tests need what an in-process server cannot give: a process to SIGKILL, and small
filesystems to fill. `Tmpfs` mounts are made by `unshare -m` inside a private mount namespace,
so nothing is mounted on the machine itself; the test reaches them through
`/proc/<pid>/root`, the server's own view of the filesystem.
"""

from __future__ import annotations

import asyncio
import errno
import os
import shlex
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.parts import missing
from tests.support.postgres import free_port

BIN = Path(sys.executable).parent / "pysetl-hub-server"
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Tmpfs:
    path: Path
    size: str  # as mount takes it: "2m"


@dataclass
class Served:
    proc: subprocess.Popen[bytes]
    url: str
    data_dir: Path
    log: Path
    namespaced: bool

    def view(self, path: Path) -> Path:
        """`path` as the server sees it (inside its mount namespace)."""
        return Path(f"/proc/{self.proc.pid}/root{path}") if self.namespaced else path

    def inside(self, *argv: str) -> str:
        """Run a command in the server's mount namespace (where SQLite can open the database
        file: it resolves symlinks itself, and `/proc/<pid>/root` would lead it out); its
        stdout."""
        if self.namespaced:
            argv = ("nsenter", "-t", str(self.proc.pid), "-m", "--", *argv)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}  # entering the namespace resets the cwd
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=120, check=False, env=env
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def token(self, database_url: str | None = None) -> str:
        """A new API token of user alice (created if need be), made where the server's own
        database is: quicker than two CLI processes, and the same services."""
        url = database_url or f"sqlite+aiosqlite:///{self.data_dir / 'hub.sqlite3'}"
        if not self.namespaced:
            return token_for(url)
        script = (
            "import sys; from tests.support.served import token_for; print(token_for(sys.argv[1]))"
        )
        return self.inside(sys.executable, "-c", script, url).strip()

    def kill(self) -> None:
        """SIGKILL, the way a crash or the OOM killer ends it: no clean-up runs."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def require_mount_namespaces() -> None:
    """Skip (fail under CI=true) where this user may not mount a tmpfs in a new namespace."""
    with tempfile.TemporaryDirectory() as probe:
        script = f"mount -t tmpfs -o size=1m tmpfs {shlex.quote(probe)}"
        try:
            done = subprocess.run(
                ["unshare", "-m", "sh", "-c", script], capture_output=True, timeout=30
            )
        except FileNotFoundError:
            missing("unshare (util-linux)", "install util-linux")
        if done.returncode != 0:
            missing(
                "permission to mount a tmpfs in a private mount namespace",
                f"run the tests as root (unshare -m said: {done.stderr.decode().strip()})",
            )


def token_for(database_url: str, username: str = "alice") -> str:
    """A new API token of `username` (created with the user if need be)."""
    from sqlalchemy import select

    from pysetl_hub_server.accounts.services import create_token, create_user
    from pysetl_hub_server.db.engine import make_engine, make_sessionmaker
    from pysetl_hub_server.db.models import User

    async def go() -> str:
        engine = make_engine(database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                if await session.scalar(select(User).where(User.username == username)) is None:
                    await create_user(session, username, f"{username}@example.org", "password1")
                token = await create_token(session, username)
                await session.commit()
                return token
        finally:
            await engine.dispose()

    return asyncio.run(go())


def serve(
    data_dir: Path,
    log: Path,
    *,
    database_url: str | None = None,
    mounts: tuple[Tmpfs, ...] = (),
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
    access_log: bool = False,
    verify: ssl.SSLContext | bool = True,
    port: int | None = None,
) -> Served:
    """Start the server on a free port and wait until it is ready (it migrates the database
    first); `mounts` are made before, in a private mount namespace. `env` adds settings,
    `args` adds `serve` options; with a TLS certificate among them the URL is https://, and
    `verify` is what the readiness probe trusts."""
    port = port or free_port()
    extra = dict(env or {})
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYSETL_HUB_")}
    env["PYSETL_HUB_DATA_DIR"] = str(data_dir)
    if database_url:
        env["PYSETL_HUB_DATABASE_URL"] = database_url
    env.update(extra)
    lines = ["set -e"]
    for m in mounts:
        target = shlex.quote(str(m.path))
        lines += [f"mkdir -p {target}", f"mount -t tmpfs -o size={m.size} tmpfs {target}"]
    options = [*args, "--access-log" if access_log else "--no-access-log"]
    command = " ".join(shlex.quote(a) for a in (str(BIN), "serve", "--port", str(port), *options))
    lines.append(f"exec {command}")
    tls = "--tls-cert" in args or "PYSETL_HUB_TLS_CERT" in extra
    argv = ["sh", "-c", "\n".join(lines)]
    if mounts:
        argv = ["unshare", "-m", "--propagation", "private", *argv]
    with log.open("ab") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=out, start_new_session=True)
    scheme = "https" if tls else "http"
    served = Served(proc, f"{scheme}://127.0.0.1:{port}", data_dir, log, bool(mounts))
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{served.url}/readyz", timeout=5, verify=verify).status_code == 200:
                return served
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            served.stop()
            raise RuntimeError(f"the server did not start:\n{log.read_text()}")
        time.sleep(0.1)


def fill(directory: Path) -> Path:
    """Fill the filesystem under `directory` to the last page; the filler file is returned."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    block = b"\0" * 65536
    try:
        while True:
            os.write(fd, block)  # a partial write when less than a block is left, then ENOSPC
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise
    finally:
        os.close(fd)
    return filler


def free(filler: Path, size: int) -> None:
    """Give `size` bytes of a full filesystem back, by shortening its filler."""
    os.truncate(filler, filler.stat().st_size - size)
