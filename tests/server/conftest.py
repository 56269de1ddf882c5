"""Server fixtures: a real hub (SQLite, migrated) for services tested without HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pysetl_hub_server.db.migrate import upgrade
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.runtime import open_hub
from pysetl_hub_server.settings import Settings


@pytest.fixture
async def offline_hub(tmp_path: Path) -> AsyncIterator[Hub]:
    """The services of a hub on a fresh migrated SQLite database; no server runs."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}"
    await asyncio.to_thread(upgrade, url)
    async with open_hub(Settings(data_dir=tmp_path / "data", database_url=url)) as opened:
        yield opened
