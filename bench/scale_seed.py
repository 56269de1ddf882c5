"""Generate a catalogue straight into the database and blob store, for bench/scale_bench.py.

N components x 5 releases x 1 wheel each, inserted with multi-row INSERTs through the models
(no HTTP uploads: 100k components load in minutes, not hours). Every wheel shares one blob (the
content does not matter to the index, only the rows do); search documents go through the
built-in engine, as the outbox worker would write them.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import sqlite3
import sys
import time
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from search_bench import _unique, generate  # noqa: E402
from sqlalchemy import insert  # noqa: E402
from sqlalchemy import text as sql_text  # noqa: E402

from pysetl_hub_server.db import models  # noqa: E402
from pysetl_hub_server.db.migrate import upgrade  # noqa: E402
from pysetl_hub_server.runtime import open_hub  # noqa: E402
from pysetl_hub_server.search.engine import Document  # noqa: E402
from pysetl_hub_server.settings import Settings  # noqa: E402
from pysetl_hub_server.storage.blobs import blob_key  # noqa: E402

RELEASES = 5
WHEEL = b"PK\x05\x06" + b"\x00" * 18 + b"x" * (48 * 1024)  # a wheel-sized blob, shared
T0 = datetime(2026, 1, 1, tzinfo=UTC)
CHUNK = 2000


def documents(n: int, seed: int) -> list[Document]:
    """`n` distinct components with search text (search_bench's generator)."""
    docs: list[Document] = []
    round_ = 0
    while len(docs) < n:
        more = generate(max(n - len(docs), 0) + n // 5 + 100, random.Random(seed + round_))[0]
        docs = _unique(docs + more)
        round_ += 1
    return [replace(d, id=i + 1) for i, d in enumerate(docs[:n])]


async def _seed(settings: Settings, docs: list[Document]) -> None:
    sha = hashlib.sha256(WHEEL).hexdigest()
    blake = hashlib.blake2b(WHEEL, digest_size=32).hexdigest()
    async with open_hub(settings) as hub:
        await hub.blobs.put_bytes(blob_key(sha), WHEEL)
        for start in range(0, len(docs), CHUNK):
            chunk = docs[start : start + CHUNK]
            components, releases, files = [], [], []
            for d in chunk:
                components.append(
                    {"id": d.id, "name": d.name, "display_name": d.name, "last_serial": 0}
                )
                for r in range(RELEASES):
                    rid = (d.id - 1) * RELEASES + r + 1
                    version = f"1.{r}.0"
                    releases.append(
                        {
                            "id": rid,
                            "component_id": d.id,
                            "version": version,
                            "canonical_version": f"1.{r}",
                            "summary": d.summary,
                            "requires_python": d.requires_python,
                            "kinds": d.kinds,
                            "keywords": d.keywords,
                            "created": T0 + timedelta(minutes=rid),
                        }
                    )
                    stem = d.name.replace("-", "_")
                    files.append(
                        {
                            "id": rid,
                            "release_id": rid,
                            "filename": f"{stem}-{version}-py3-none-any.whl",
                            "packagetype": "bdist_wheel",
                            "size": len(WHEEL),
                            "sha256": sha,
                            "blake2b_256": blake,
                            "requires_python": d.requires_python,
                            "upload_time": T0 + timedelta(minutes=rid),
                        }
                    )
            async with hub.sessions() as session, session.begin():
                await session.execute(insert(models.Component), components)
                await session.execute(insert(models.Release), releases)
                await session.execute(insert(models.File), files)
        engine = hub.search
        await engine.clear()
        for start in range(0, len(docs), 1000):
            await engine.index(docs[start : start + 1000])
        async with hub.sessions() as session:
            await session.execute(sql_text("ANALYZE"))
            await session.commit()


def seed(data: Path, n: int, seed: int, database_url: str | None = None) -> list[str]:
    """Load `n` components into `data` (reused when already loaded there); their names."""
    done = data / f"seeded-{n}-{seed}"
    if database_url is None and done.exists():  # loaded before: the names from the database
        with closing(sqlite3.connect(data / "hub.sqlite3")) as db:
            return [name for (name,) in db.execute("SELECT name FROM components ORDER BY id")]
    docs = documents(n, seed)
    names = [d.name for d in docs]
    data.mkdir(parents=True, exist_ok=True)
    settings = Settings(data_dir=data, database_url=database_url)
    upgrade(settings.effective_database_url)
    began = time.monotonic()
    asyncio.run(_seed(settings, docs))
    print(
        f"  seeded {n:,} components x {RELEASES} in {time.monotonic() - began:.0f} s",
        file=sys.stderr,
    )
    if database_url is None:
        done.write_text("loaded\n")
    return names
