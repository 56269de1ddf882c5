"""Stopping a helper process that was started in its own session (`start_new_session=True`):
its whole process group goes, so no worker or child is left behind when a test fails."""

from __future__ import annotations

import os
import signal
import subprocess


def stop_group(
    proc: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM, timeout: float = 15
) -> int | None:
    """Signal the group and wait; SIGKILL after `timeout`. The exit code, None if not started."""
    if proc is None:
        return None
    if proc.poll() is not None:
        return proc.returncode
    try:
        os.killpg(proc.pid, sig)
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        return proc.wait(timeout=timeout)
    except ProcessLookupError:
        return proc.wait(timeout=timeout)
