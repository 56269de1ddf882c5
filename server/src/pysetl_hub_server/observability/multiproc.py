"""The directory the worker processes of one `serve` share their metric values in.

prometheus_client keeps each worker's values in memory-mapped files there, and /metrics, in
whichever worker answers, adds them up. The directory must exist and be empty before the first
worker starts (values left by an earlier run would be added to this one's), and the variable
must be set before a worker builds a metric; `serve` calls `prepare` before starting them."""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def prepare() -> Path:
    """Empty (or create) the operator's PROMETHEUS_MULTIPROC_DIR, or make a private temporary
    one removed at exit; export it for the workers."""
    given = os.environ.get(VARIABLE)
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        # prometheus_client's files only: a variable pointed at the wrong directory (the data
        # dir) must not cost that directory.
        for stale in path.glob("*.db"):
            stale.unlink(missing_ok=True)
    else:
        # Not in the data dir: replicas may share that volume, and each needs its own.
        path = Path(tempfile.mkdtemp(prefix="pysetl-hub-metrics-"))
        atexit.register(shutil.rmtree, path, ignore_errors=True)
    os.environ[VARIABLE] = str(path)
    if "prometheus_client.values" in sys.modules:
        # Imported before the variable was set (by some library): its value class was chosen
        # for one process. Choose again, before any worker builds a metric.
        from prometheus_client import values

        values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]
    return path
