"""At start, the files a killed upload left behind are swept; a live upload's are not.

Two real processes write the way the server does (the multipart spool, a blob store write),
each stopped halfway: the body and the blob's source never finish. One is SIGKILLed; a hub that
starts then removes exactly what the dead one left, at once, however young its files are.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from pysetl_hub_server.runtime import open_hub
from pysetl_hub_server.settings import Settings
from pysetl_hub_server.storage.blobs import CHUNK
from tests.conftest import make_settings

# Starts a spooled upload and a blob write, feeds each half of its bytes, and waits forever.
WRITER = r"""
import asyncio, sys
from pathlib import Path
from pysetl_hub_server.publishing.multipart import parse_upload
from pysetl_hub_server.settings import UploadLimits
from pysetl_hub_server.storage.blobs import LocalBlobStore

spool, blobs, source = map(Path, sys.argv[1:4])
HEAD = (
    b'--b\r\nContent-Disposition: form-data; name="content"; filename="x-1-py3-none-any.whl"'
    b"\r\n\r\n" + b"w" * 100_000
)

async def body():
    yield HEAD
    await asyncio.Event().wait()  # the rest of the body never comes

async def main():
    await asyncio.gather(
        parse_upload("multipart/form-data; boundary=b", body(), UploadLimits(), spool),
        LocalBlobStore(blobs).put_file("sha256/00/00/half", source),
    )

asyncio.run(main())
"""


@dataclass
class Writer:
    proc: subprocess.Popen[bytes]
    source: int  # our end of the FIFO the blob is copied from
    files: list[Path]


def start_writer(settings: Settings, name: str) -> Writer:
    spool, blobs = settings.data_dir / "spool", settings.data_dir / "blobs"
    fifo = settings.data_dir.parent / f"{name}.fifo"
    os.mkfifo(fifo)
    # Read-write: opening never blocks, and the reader never sees the end of the file.
    source = os.open(fifo, os.O_RDWR)
    # One chunk of the copy and a little more: the copy writes the chunk, then waits.
    feed = threading.Thread(target=os.write, args=(source, b"b" * (CHUNK + 1000)), daemon=True)
    feed.start()
    before = set(spool.iterdir()) | set((blobs / ".tmp").iterdir())
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(spool), str(blobs), str(fifo)])
    deadline = time.monotonic() + 30
    while True:
        new = (set(spool.iterdir()) | set((blobs / ".tmp").iterdir())) - before
        if len(new) == 2 and all(p.stat().st_size >= 50_000 for p in new):
            return Writer(proc, source, sorted(new))
        assert proc.poll() is None and time.monotonic() < deadline, "the writer did not start"
        time.sleep(0.02)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}")
    for d in (settings.data_dir / "spool", settings.data_dir / "blobs" / ".tmp"):
        d.mkdir(parents=True)
    return settings


def start_hub(settings: Settings) -> None:
    async def start() -> None:
        async with open_hub(settings):
            pass

    asyncio.run(start())


def test_start_sweeps_what_a_killed_upload_left_and_keeps_a_live_ones(settings: Settings) -> None:
    dead = start_writer(settings, "dead")
    live = start_writer(settings, "live")
    stored = settings.data_dir / "blobs" / "sha256" / "ab" / "cd" / "abcd"
    stored.parent.mkdir(parents=True)
    stored.write_bytes(b"published")  # a blob, not a left-over: never touched
    stray = settings.data_dir / "spool" / "tmpold.upload"
    stray.write_bytes(b"x")  # no process holds it (as an older server version left them)
    try:
        dead.proc.send_signal(signal.SIGKILL)
        dead.proc.wait(timeout=30)
        assert all(p.exists() for p in dead.files)  # a killed process cleans nothing up

        start_hub(settings)

        assert not any(p.exists() for p in dead.files), "the dead upload's files were kept"
        assert not stray.exists()
        assert all(p.exists() for p in live.files), "a live upload's files were swept"
        assert stored.read_bytes() == b"published"
    finally:
        for writer in (dead, live):
            writer.proc.kill()
            writer.proc.wait(timeout=30)
            os.close(writer.source)


def test_a_file_claimed_in_this_process_is_kept_too(settings: Settings) -> None:
    """The lock is per open file, not per process: the sweep in a process that serves uploads
    (a CLI command next to a worker, a test) still keeps that process's own files."""
    from pysetl_hub_server.storage.sweep import claim

    fd, path = claim(settings.data_dir / "spool", suffix=".upload")
    try:
        start_hub(settings)
        assert path.exists()
    finally:
        os.close(fd)
    start_hub(settings)
    assert not path.exists()
