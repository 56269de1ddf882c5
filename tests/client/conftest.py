"""Client tests: a real hub on loopback (SQLite; the server suite covers PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pysetl_hub.cli import main
from pysetl_hub.client import HubClient
from pysetl_hub.config import Config
from tests.support.live import LiveServer

# The variables gettext reads, in its order; None unsets one for the run.
ENGLISH: dict[str, str | None] = {
    "LANGUAGE": None,
    "LC_ALL": None,
    "LC_MESSAGES": None,
    "LANG": "C.UTF-8",
}


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}"


@pytest.fixture
def config(live: LiveServer, tmp_path: Path, published_catalog: str) -> Config:
    """alice's client: her token, a private cache and config file."""
    return Config(
        url=live.url,
        token=published_catalog,
        cache_dir=tmp_path / "cache",
        path=tmp_path / "config.toml",
        retries=1,
    )


@pytest.fixture
def client(config: Config) -> Iterator[HubClient]:
    with HubClient(config) as c:
        yield c


@pytest.fixture
def run(config: Config):  # type: ignore[no-untyped-def]
    """The CLI in-process against the live hub, with this test's config, cache and no token."""
    env = {
        "PYSETL_HUB_URL": config.url,
        "PYSETL_HUB_CONFIG": str(config.path),
        "PYSETL_HUB_CACHE_DIR": str(config.cache_dir),
        "PYSETL_HUB_TOKEN": "",
        "NO_COLOR": "1",
        "COLUMNS": "250",
        # English, whatever the machine's language (tests/client/test_i18n.py sets others).
        **ENGLISH,
    }

    def go(
        *args: str,
        token: str | None = None,
        input: str | None = None,
        language: dict[str, str | None] | None = None,
    ) -> Result:
        extra = {"PYSETL_HUB_TOKEN": token} if token else {}
        runner = CliRunner(env={**env, **(language or {}), **extra})
        return runner.invoke(main, list(args), input=input)

    return go
