"""How long `pysetl-hub --help` and `--version` take, next to `pip --version` (run by hand).

    .venv/bin/python bench/cli_startup.py [-n 20]

Each command runs N times in a fresh process; wall time is measured around the whole run
(interpreter start, imports, output), as a user waits for it. Prints median and p90 in ms,
twice: with bytecode caches (as after a first run, or a pip install, which compiles them) and
without any (every module compiled from source, as under PYTHONDONTWRITEBYTECODE=1 with no
cache yet). The caches go to a temporary PYTHONPYCACHEPREFIX, never into the venv or the tree.

The goal for --help is under 150 ms: heavy modules (httpx, Rich, Sigstore, pypi_attestations)
are imported only by the commands that use them.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    found = BIN / name
    if found.exists():
        return str(found)
    on_path = shutil.which(name)
    if on_path is None:
        raise SystemExit(f"{name} is not installed beside {sys.executable} nor on PATH")
    return on_path


def timings(argv: list[str], runs: int, env: Mapping[str, str]) -> list[float]:
    subprocess.run(argv, capture_output=True, check=True, env=env)  # warm caches once
    result = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True, env=env)
        result.append((time.perf_counter() - start) * 1000)
    return result


def environments(tmp: Path) -> dict[str, dict[str, str]]:
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    (tmp / "empty").mkdir()
    return {
        "with bytecode caches": {**base, "PYTHONPYCACHEPREFIX": str(tmp / "cache")},
        "without bytecode caches": {
            **base,
            "PYTHONPYCACHEPREFIX": str(tmp / "empty"),
            "PYTHONDONTWRITEBYTECODE": "1",
        },
    }


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=20, help="runs per command (20)")
    parser.add_argument(
        "--hub", help="the command to time instead of this venv's pysetl-hub (e.g. an old build)"
    )
    args = parser.parse_args()
    hub, pip = shlex.split(args.hub) if args.hub else [tool("pysetl-hub")], tool("pip")
    cases = {
        "pysetl-hub --help": [*hub, "--help"],
        "pysetl-hub --version": [*hub, "--version"],
        "pip --version (reference)": [pip, "--version"],
    }
    with tempfile.TemporaryDirectory() as tmp:
        for title, env in environments(Path(tmp)).items():
            print(f"{title} ({args.runs} runs each)")
            print(f"  {'command':<28} {'median ms':>10} {'p90 ms':>8}")
            for label, argv in cases.items():
                values = timings(argv, args.runs, env)
                print(f"  {label:<28} {statistics.median(values):>10.0f} {p90(values):>8.0f}")


if __name__ == "__main__":
    main()
