"""Under CI=true a missing real part fails the run; elsewhere it skips with the fix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("ci", "outcome"), [("true", "1 error"), ("", "1 skipped")])
def test_missing_postgresql(tmp_path: Path, ci: str, outcome: str) -> None:
    probe = ROOT / "tests" / f"test_zz_probe_{os.getpid()}_{ci or 'local'}.py"
    probe.write_text("def test_needs_pg(pg_server):\n    pass\n")
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(probe)],
            cwd=ROOT,
            env={**os.environ, "CI": ci, "PYSETL_HUB_TEST_PG_BINDIR": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        probe.unlink()
    assert outcome in result.stdout, result.stdout + result.stderr
