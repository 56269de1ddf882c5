from __future__ import annotations

from pathlib import Path

import pytest

from pysetl_hub_server.settings import Settings, SettingsError


def test_defaults_are_embedded() -> None:
    s = Settings.from_env({})
    assert s.data_dir == Path("hub-data")
    assert s.effective_database_url.startswith("sqlite+aiosqlite:///")
    assert s.effective_database_url.endswith("hub-data/hub.sqlite3")
    assert s.effective_storage_url.startswith("file://")
    assert s.uploads.max_file_size == 50 * 1024 * 1024
    assert (s.host, s.port) == ("127.0.0.1", 8000)
    assert "1.2.1" in s.platforms.pysetl and "3.5.7" in s.platforms.spark


def test_environment_overrides() -> None:
    s = Settings.from_env(
        {
            "PYSETL_HUB_DATA_DIR": "/srv/hub",
            "PYSETL_HUB_DATABASE_URL": "postgresql+asyncpg://h/db",
            "PYSETL_HUB_MAX_UPLOAD_SIZE": "1000",
            "PYSETL_HUB_PLATFORMS_SPARK": "3.5.0, 4.0.0",
        }
    )
    assert s.data_dir == Path("/srv/hub")
    assert s.effective_database_url == "postgresql+asyncpg://h/db"
    assert s.uploads.max_file_size == 1000
    assert s.platforms.spark == ("3.5.0", "4.0.0")
    assert s.with_overrides(port=9000, host=None).port == 9000


@pytest.mark.parametrize("value", ["big", "-5", "0"])
def test_bad_values_fail_fast_naming_the_variable(value: str) -> None:
    with pytest.raises(SettingsError, match="PYSETL_HUB_MAX_UPLOAD_SIZE"):
        Settings.from_env({"PYSETL_HUB_MAX_UPLOAD_SIZE": value})
