"""Summarise `mutmut results --all true` as a mutation score per module and overall."""

from __future__ import annotations

import sys
from collections import Counter, defaultdict
from pathlib import Path

KILLED = {"killed", "timeout", "segfault"}  # a test run that did not pass caught the mutant


def main(stage: Path) -> None:
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    for line in (stage / "results.txt").read_text().splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if not sep or "__mutmut_" not in name:
            continue
        module = name.split(".x")[0].split(".xǁ")[0]
        by_module[module][status.strip()] += 1
    total: Counter[str] = Counter()
    for module, counts in sorted(by_module.items()):
        total.update(counts)
        print(f"{module:55} {_score(counts)}")
    print(f"{'all':55} {_score(total)}")


def _score(counts: Counter[str]) -> str:
    tested = sum(n for s, n in counts.items() if s not in {"skipped", "not checked"})
    killed = sum(counts[s] for s in KILLED)
    pct = 100 * killed / tested if tested else 0.0
    detail = ", ".join(f"{s} {n}" for s, n in sorted(counts.items()))
    return f"{pct:5.1f}% killed of {tested} ({detail})"


if __name__ == "__main__":
    main(Path(sys.argv[1]))
