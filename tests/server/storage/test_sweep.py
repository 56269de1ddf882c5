"""At start, files an interrupted upload left behind are swept; a live upload's are not."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from pysetl_hub_server.runtime import open_hub
from pysetl_hub_server.settings import UploadLimits
from pysetl_hub_server.storage.sweep import AFTER_BODY
from tests.conftest import make_settings


def test_start_sweeps_stale_spool_and_blob_temp_files(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}",
        uploads=UploadLimits(body_timeout=60),
    )
    spool = settings.data_dir / "spool"
    temp = settings.data_dir / "blobs" / ".tmp"
    blob = settings.data_dir / "blobs" / "sha256" / "ab" / "old-but-published"
    for d in (spool, temp, blob.parent):
        d.mkdir(parents=True, exist_ok=True)
    stale_at = time.time() - (60 + AFTER_BODY + 10)  # older than any upload still in flight
    files = {
        "stale spool": (spool / "tmpa.upload", stale_at),
        "stale temp": (temp / "tmpb", stale_at),
        "live spool": (spool / "tmpc.upload", time.time() - 30),  # another worker's, in flight
        "live temp": (temp / "tmpd", time.time()),
        "stored blob": (blob, stale_at),  # not a left-over: never touched
    }
    for path, mtime in files.values():
        path.write_bytes(b"x")
        os.utime(path, (mtime, mtime))

    async def start() -> None:
        async with open_hub(settings):
            pass

    asyncio.run(start())
    left = {label for label, (path, _) in files.items() if path.exists()}
    assert left == {"live spool", "live temp", "stored blob"}
