"""The production topology as real processes on one machine (issue 14, section 2).

PostgreSQL from the local binaries, moto's S3 server, Redis, N `pysetl-hub-server serve`
processes (each its own process group on its own loopback port, all on the same database, bucket
and Redis) and Debian's nginx in front. `db upgrade` runs once first, as the migration job of a
deployment would. Used by tests/topology and by scripts/topology.py (which leaves it running).

Every process is started in a new session, so `close()` (and each `stop`) ends its whole process
group: nothing outlives the harness, even when a test fails half-way.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support import nginx, postgres, redis, s3
from tests.support.postgres import free_port
from tests.support.procs import stop_group

BIN = Path(sys.executable).parent
SERVER = BIN / "pysetl-hub-server"
# Low on purpose, so the test can reach it; a policy no other point of the test uses.
RATE_LIMITS = "bad_token=6/minute"
# How stale another replica's cached pages may be (the serial poller's period).
POLL_SECONDS = "0.25"


@dataclass
class Replica:
    name: str
    port: int
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def upstream(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [str(SERVER), "serve", "--port", str(self.port), "--no-access-log"],
            env=self.env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        """Until /readyz answers 200: database and storage reachable, caches primed."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(f"replica {self.name} exited:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"replica {self.name} did not become ready:\n{self.tail()}")
            time.sleep(0.05)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int | None:
        """Signal the process group and wait for it; the exit code (None if it was not up)."""
        return stop_group(self.proc, sig, timeout)

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


@dataclass
class Topology:
    root: Path
    pg: postgres.PostgresServer
    database_url: str
    s3: s3.S3Server
    redis: redis.RedisServer
    replicas: list[Replica] = field(default_factory=list)
    extra: list[Replica] = field(default_factory=list)
    nginx: nginx.Nginx | None = None
    token: str = ""

    @property
    def url(self) -> str:
        assert self.nginx is not None
        return self.nginx.url

    def env(self, **overrides: str) -> dict[str, str]:
        """A replica's environment: the parent's without any PYSETL_HUB_* of its own."""
        base = {k: v for k, v in os.environ.items() if not k.startswith("PYSETL_HUB_")}
        return {
            **base,
            "PYSETL_HUB_DATABASE_URL": self.database_url,
            **self.s3.env(),
            "PYSETL_HUB_REDIS_URL": self.redis.url,
            "PYSETL_HUB_RATE_LIMITS": RATE_LIMITS,
            "PYSETL_HUB_SERIAL_POLL_INTERVAL": POLL_SECONDS,
            "PYSETL_HUB_LOG_LEVEL": "WARNING",
            **overrides,
        }

    def replica(self, name: str, **overrides: str) -> Replica:
        """A new replica (not started), with its own data dir (spool) and log."""
        data = self.root / name
        data.mkdir(parents=True, exist_ok=True)
        env = self.env(PYSETL_HUB_DATA_DIR=str(data), **overrides)
        return Replica(name, free_port(), env, self.root / f"{name}.log")

    def cli(self, *args: str, stdin: str | None = None) -> str:
        """Run `pysetl-hub-server ARGS` against the shared database and storage."""
        done = subprocess.run(
            [str(SERVER), *args],
            env=self.env(PYSETL_HUB_DATA_DIR=str(self.root / "jobs")),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"pysetl-hub-server {' '.join(args)} failed:\n{done.stderr}")
        return done.stdout.strip()

    def start_extra(self, name: str, **overrides: str) -> Replica:
        """One more replica beside the set behind nginx (presign on, a dead search engine),
        started but not waited for: it gets ready while other work goes on."""
        extra = self.replica(name, **overrides)
        self.extra.append(extra)
        extra.start()
        return extra

    def close(self) -> None:
        """Stop everything, whatever state it is in; each step on its own."""
        if self.nginx is not None:
            _attempt(self.nginx.cleanup)
        replicas = [*self.replicas, *self.extra]
        if replicas:  # each drains on its own: stopped side by side
            with ThreadPoolExecutor(len(replicas)) as pool:
                list(pool.map(lambda r: _attempt(r.stop), replicas))
        for step in (self.s3.stop, self.redis.stop, self.pg.stop):
            _attempt(step)


def _attempt(step: Callable[[], object]) -> None:
    """Run one stop step; a failure is reported and the next step still runs."""
    try:
        step()
    except Exception as exc:
        print(f"topology: {step} failed to stop: {exc}", file=sys.stderr)


def user_with_token(database_url: str, data_dir: Path, username: str) -> str:
    """Create a user and an upload token in the shared database (what an operator does with
    `pysetl-hub-server users create` and `tokens create`, without two more interpreter starts)."""
    from pysetl_hub_server.accounts.services import create_token, create_user
    from pysetl_hub_server.runtime import open_hub
    from pysetl_hub_server.settings import Settings

    async def go() -> str:
        settings = Settings(data_dir=data_dir, database_url=database_url)
        async with open_hub(settings) as hub, hub.sessions() as session:
            await create_user(session, username, f"{username}@example.org", "password123")
            token = await create_token(session, username, expires_days=1)
            await session.commit()
            return token

    return asyncio.run(go())


def start(
    replicas: int = 3, root: Path | None = None, log: Callable[[str], None] = lambda _: None
) -> Topology:
    """Start the whole topology; on any failure, stop what was started and raise."""
    root = root or Path(tempfile.mkdtemp(prefix="pysetl-hub-topology-"))
    started = time.monotonic()
    # The three backing services start side by side; if one fails, the others are stopped.
    with ThreadPoolExecutor(3) as pool:
        launches = {
            "pg": pool.submit(postgres.start_or_missing),
            "s3": pool.submit(s3.start_or_missing),
            "redis": pool.submit(redis.start_or_missing),
        }
    try:
        pg = launches["pg"].result()
        store = launches["s3"].result()
        cache = launches["redis"].result()
        database_url = pg.create_database("hub")
    except BaseException:
        for launch in launches.values():
            if launch.exception() is None:
                _attempt(launch.result().stop)
        raise
    log(f"PostgreSQL on 127.0.0.1:{pg.port}")
    log(f"S3 (moto) on {store.endpoint}, bucket {store.bucket}")
    log(f"Redis on 127.0.0.1:{cache.port}")
    topo = Topology(root, pg, database_url, store, cache)
    try:
        topo.cli("db", "upgrade")  # the migration job, once, before any replica
        topo.replicas = [topo.replica(f"hub{i}") for i in range(1, replicas + 1)]
        for replica in topo.replicas:
            replica.start()
        with ThreadPoolExecutor(len(topo.replicas) + 1) as pool:
            token = pool.submit(user_with_token, database_url, root / "jobs", "ops")
            list(pool.map(Replica.wait_ready, topo.replicas))
            topo.token = token.result()
        log("replicas: " + ", ".join(r.url for r in topo.replicas))
        topo.nginx = nginx.start_or_missing([r.upstream for r in topo.replicas])
        log(f"nginx on {topo.nginx.url} (started in {time.monotonic() - started:.1f} s)")
    except BaseException:
        topo.close()
        raise
    return topo
