"""Replace the staged [tool.mutmut] test selection with the test paths given (MUTATE_TESTS)."""

from __future__ import annotations

import re
import sys
from pathlib import Path


def main(pyproject: Path, tests: list[str]) -> None:
    listed = ", ".join(f'"{t}"' for t in tests)
    text, count = re.subn(
        r"pytest_add_cli_args_test_selection = \[[^\]]*\]",
        f"pytest_add_cli_args_test_selection = [{listed}]",
        pyproject.read_text(),
    )
    if count != 1:
        raise SystemExit(f"{pyproject}: no [tool.mutmut] pytest_add_cli_args_test_selection")
    pyproject.write_text(text)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:])
