"""A throwaway PostgreSQL server started from the local binaries (initdb + pg_ctl)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.support.parts import missing


def find_bindir() -> Path | None:
    """Where pg_ctl lives; PYSETL_HUB_TEST_PG_BINDIR overrides (an empty dir: "not installed")."""
    if override := os.environ.get("PYSETL_HUB_TEST_PG_BINDIR"):
        return Path(override) if (Path(override) / "pg_ctl").exists() else None
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(candidates[-1]).parent if candidates else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresServer:
    bindir: Path
    root: Path
    port: int
    run_as: list[str]

    @property
    def admin_url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def _cmd(self, *args: str) -> None:
        subprocess.run([*self.run_as, *args], check=True, capture_output=True, timeout=120)

    def create_database(self, name: str) -> str:
        self._cmd(
            str(self.bindir / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-c",
            f'CREATE DATABASE "{name}"',
        )
        return self.url(name)

    def halt(self) -> None:
        """Stop the server and keep its data: an outage, ended by `resume`."""
        self._cmd(str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "fast", "stop")

    def resume(self) -> None:
        """Start the server again on the same port and data (after `halt`)."""
        _pg_start(self)

    def stop(self) -> None:
        subprocess.run(
            [
                *self.run_as,
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.root / "data"),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(self.root, ignore_errors=True)


def start() -> PostgresServer:
    bindir = find_bindir()
    if bindir is None:
        raise FileNotFoundError("PostgreSQL binaries (initdb, pg_ctl) are not installed")
    root = Path(tempfile.mkdtemp(prefix="pysetl-hub-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        user = "postgres"
        try:
            entry = pwd.getpwnam(user)
        except KeyError:
            entry = pwd.getpwnam("nobody")
            user = "nobody"
        os.chown(root, entry.pw_uid, entry.pw_gid)
        run_as = ["runuser", "-u", user, "--"]
    root.chmod(0o755)
    port = free_port()
    server = PostgresServer(bindir, root, port, run_as)
    server._cmd(
        str(bindir / "initdb"),
        "-D",
        str(root / "data"),
        "-U",
        "postgres",
        "--auth=trust",
        "-E",
        "UTF8",
        "--no-sync",
    )
    _pg_start(server)
    return server


def start_or_missing() -> PostgresServer:
    """`start()`, or the missing-part answer: a skip naming the fix, a failure under CI=true."""
    try:
        return start()
    except FileNotFoundError:
        missing(
            "PostgreSQL (initdb, pg_ctl)", "`make test` installs it (apt-get install postgresql)"
        )


def _pg_start(server: PostgresServer) -> None:
    server._cmd(
        str(server.bindir / "pg_ctl"),
        "-D",
        str(server.root / "data"),
        "-w",
        "-l",
        str(server.root / "log"),
        "-o",
        f"-p {server.port} -k {server.root} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
        "start",
    )
