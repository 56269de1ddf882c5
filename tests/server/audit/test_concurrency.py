"""Concurrent writers still give one valid chain: each locks the head before it reads it.

On PostgreSQL the head row is locked (FOR UPDATE, by a no-op UPDATE); on SQLite the same
UPDATE takes the write lock, without which two writers that read the head before either wrote
would link their events after the same one.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from sqlalchemy import func, select

from pysetl_hub_server.audit.chain import verify
from pysetl_hub_server.audit.services import Actor, record
from pysetl_hub_server.db.migrate import upgrade
from pysetl_hub_server.db.models import AuditEvent
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.runtime import open_hub
from pysetl_hub_server.settings import Settings
from tests.support.live import LiveServer
from tests.support.upload import upload

WRITERS = 24


async def test_simultaneous_writers_in_one_process(tmp_path: Path, database_url: str) -> None:
    await asyncio.to_thread(upgrade, database_url)
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url)
    async with open_hub(settings) as hub:

        async def write(n: int) -> None:
            async with hub.sessions() as session:
                await record(session, "token.create", actor=Actor(None, f"u{n}"), target="user:u")
                await asyncio.sleep(0)  # let the others reach the head in between
                await session.commit()

        await asyncio.gather(*(write(n) for n in range(WRITERS)))
        async with hub.sessions() as session:
            verdict = await verify(session)
    assert verdict.ok, verdict.problem
    assert verdict.checked == WRITERS


def test_simultaneous_publishes_and_yanks_through_a_live_server(
    live: LiveServer, http: httpx.Client, example_dists: dict[str, Path]
) -> None:
    token = live.user_with_token("alice")
    assert upload(http, token, example_dists["csv-dedupe:wheel"]).status_code == 200
    version = example_dists["csv-dedupe:wheel"].name.split("-")[1]
    auth = {"Authorization": f"Bearer {token}"}

    def yank(n: int) -> int:
        verb = "yank" if n % 2 else "unyank"
        with httpx.Client(base_url=live.url, timeout=60) as c:
            path = f"/api/v1/components/csv-dedupe/{version}/{verb}"
            body = {"reason": f"r{n}"} if verb == "yank" else {}
            return c.post(path, json=body, headers=auth).status_code

    def publish(key: str) -> int:
        with httpx.Client(base_url=live.url, timeout=60) as c:
            return upload(c, token, example_dists[key]).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        yanks = [pool.submit(yank, n) for n in range(16)]
        uploads = [
            pool.submit(publish, key) for key in ("csv-dedupe:sdist", "daily-sales-pipeline:wheel")
        ]
        statuses = [f.result() for f in (*yanks, *uploads)]
    assert statuses == [200] * len(statuses)

    async def check(hub: Hub) -> tuple[bool, str, int, int]:
        async with hub.sessions() as session:
            verdict = await verify(session)
            total = await session.scalar(select(func.count()).select_from(AuditEvent))
        return verdict.ok, verdict.problem, verdict.checked, int(total or 0)

    ok, problem, checked, total = live.run(check)
    assert ok, problem
    assert checked == total >= 16 + 2 * 2
