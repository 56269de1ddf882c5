"""Under CI=true a missing real part fails the run; elsewhere it skips with the fix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("ci", "outcome"), [("true", "1 error"), ("", "1 skipped")])
@pytest.mark.parametrize(
    ("fixture", "override"),
    [("pg_server", "PYSETL_HUB_TEST_PG_BINDIR"), ("redis_server", "PYSETL_HUB_TEST_REDIS_SERVER")],
)
def test_missing_part(tmp_path: Path, ci: str, outcome: str, fixture: str, override: str) -> None:
    probe = ROOT / "tests" / f"test_zz_probe_{os.getpid()}_{fixture}_{ci or 'local'}.py"
    probe.write_text(f"def test_needs_it({fixture}):\n    pass\n")
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(probe)],
            cwd=ROOT,
            env={**os.environ, "CI": ci, override: str(tmp_path / "absent")},
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        probe.unlink()
    assert outcome in result.stdout, result.stdout + result.stderr
