"""Advisory tests share one live hub per module (and backend); each test uses names of its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.governance.conftest import Gov
from tests.support.governance import module_live
from tests.support.live import LiveServer

__all__ = ["module_live"]

CVSS3 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"


def advisory(**fields: Any) -> dict[str, Any]:
    """A valid advisory body: affects every version before 1.1.0."""
    body: dict[str, Any] = {
        "summary": "Path traversal in the output writer",
        "details": "Writing to a name with `..` escapes the output directory.",
        "aliases": ["CVE-2026-12345"],
        "severity": [{"type": "CVSS_V3", "score": CVSS3}],
        "affected": [
            {"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1.0"}]}]}
        ],
        "references": [{"type": "ADVISORY", "url": "https://example.org/advisories/1"}],
    }
    body.update(fields)
    return body


@pytest.fixture(scope="module")
def sqlite_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One live hub on SQLite for a module whose tests are not about the database."""
    from tests.conftest import start_hub

    tmp = tmp_path_factory.mktemp("hub")
    server = start_hub(tmp, f"sqlite+aiosqlite:///{tmp / 'hub.sqlite3'}")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def gov(
    module_live: LiveServer,
    example_dists: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Gov]:
    with httpx.Client(base_url=module_live.url, timeout=30) as http:
        yield Gov(
            module_live, http, example_dists["csv-dedupe:wheel"], tmp_path_factory.mktemp("w")
        )
