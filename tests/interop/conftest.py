"""One real hub process per interop module, which that module's real clients talk to. (The
build-backend matrix's table is printed by tests/conftest.py: under pytest-xdist only the root
conftest runs in the process that writes the summary.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.clients import ServerProcess, server_process


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with server_process(tmp_path_factory.mktemp("hub")) as hub:
        yield hub
