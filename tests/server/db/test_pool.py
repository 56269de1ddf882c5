"""The connection pool is bounded, and SQLite's per-connection page cache is small: memory stays
bounded however many requests wait for the database."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from pysetl_hub_server.db.engine import SQLITE_CACHE_KIB, make_engine


def test_sqlite_pool_is_bounded_and_its_cache_small(tmp_path: Path) -> None:
    async def go() -> None:
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}", pool_size=2)
        try:
            assert engine.pool.size() == 2  # type: ignore[attr-defined]
            async with engine.connect() as conn:
                cache = await conn.scalar(text("PRAGMA cache_size"))
            assert cache == -SQLITE_CACHE_KIB
            opened: list[object] = []
            held = asyncio.Event()

            async def hold() -> None:
                async with engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
                    opened.append(conn)
                    await held.wait()

            tasks = [asyncio.create_task(hold()) for _ in range(6)]
            await asyncio.sleep(0.5)
            # 2 connections and 2 more on a burst: the others wait for one to come back.
            assert len(opened) == 4
            held.set()
            await asyncio.gather(*tasks)
            assert len(opened) == 6
        finally:
            await engine.dispose()

    asyncio.run(go())
