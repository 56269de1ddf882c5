"""Left-overs of uploads a crash interrupted: spool files and half-written blobs.

Every error path deletes its own files, but a killed process cannot. At start, files older than
any upload still in flight could be (the body deadline plus the time to check and store it) are
removed; younger ones may belong to another worker of the same data directory, and stay.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)
# Checking and storing a body that arrived in time takes far less than this.
AFTER_BODY = 300.0


def sweep_stale(directories: Iterable[Path | None], older_than: float) -> int:
    """Delete regular files not modified for `older_than` seconds; return how many."""
    cutoff = time.time() - older_than
    removed = 0
    for directory in directories:
        if directory is None or not directory.is_dir():
            continue
        for path in directory.iterdir():
            try:
                if path.is_file() and not path.is_symlink() and path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue  # another worker swept it first
    if removed:
        log.info("removed %d stale upload file(s) left by an interrupted upload", removed)
    return removed
