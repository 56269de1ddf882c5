"""Left-overs of uploads a crash interrupted: spool files and half-written blobs.

Every error path deletes its own files, but a killed process cannot. So a file on its way in is
*claimed*: created and held under an exclusive `flock` for as long as it is in use (`claim`).
The kernel drops the lock when its holder dies, however it dies, so at start `sweep_orphans`
removes exactly the files no live process holds, at once, while the files of uploads another
worker of the same data directory has in flight stay.
"""

from __future__ import annotations

import fcntl
import logging
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)


def claim(directory: Path, suffix: str = "") -> tuple[int, Path]:
    """A new file in `directory`, open for writing and locked by this open file until it is
    closed. A sweep that found the file before it was locked has unlinked it by the time the
    lock is granted; then another file is created."""
    while True:
        fd, name = tempfile.mkstemp(dir=directory, suffix=suffix)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if os.fstat(fd).st_nlink > 0:
                return fd, Path(name)
        except BaseException:
            os.close(fd)
            Path(name).unlink(missing_ok=True)
            raise
        os.close(fd)  # swept between mkstemp and flock: not ours any more


def sweep_orphans(directories: Iterable[Path | None]) -> int:
    """Delete the regular files in `directories` that no live process holds; return how many."""
    removed = 0
    for directory in directories:
        if directory is None or not directory.is_dir():
            continue
        for path in directory.iterdir():
            if _remove_if_orphaned(path):
                removed += 1
    if removed:
        log.info("removed %d file(s) left by an interrupted upload", removed)
    return removed


def _remove_if_orphaned(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False  # gone already (another worker swept it), a symlink, or unreadable
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False  # held: an upload in flight (or locks unsupported: leave it)
        if os.fstat(fd).st_nlink == 0:
            return False  # another worker's sweep removed it while this one waited
        # Unlinked while locked, so a `claim` racing with this sweep sees it gone.
        path.unlink(missing_ok=True)
        return True
    finally:
        os.close(fd)
