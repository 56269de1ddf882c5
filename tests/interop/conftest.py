"""One real hub process per interop module, which that module's real clients talk to; and the
build-backend matrix's table at the end of the run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.clients import ServerProcess, server_process
from tests.support.matrix import CACHE, RESULTS


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with server_process(tmp_path_factory.mktemp("hub")) as hub:
        yield hub


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if RESULTS not in terminalreporter.config.stash:
        return
    terminalreporter.write_sep("=", "build-backend compatibility matrix")
    terminalreporter.write((CACHE / "matrix.md").read_text())
    terminalreporter.write_line(f"(also in {CACHE / 'matrix.md'})")
