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


def test_object_storage_and_operations_settings(tmp_path: Path) -> None:
    secret_file = tmp_path / "s3-secret"
    secret_file.write_text("s3cr3t\n")
    s = Settings.from_env(
        {
            "PYSETL_HUB_STORAGE_URL": "s3://hub-files/prod",
            "PYSETL_HUB_STORAGE_ENDPOINT": "http://127.0.0.1:9000",
            "PYSETL_HUB_STORAGE_REGION": "eu-west-1",
            "PYSETL_HUB_STORAGE_ACCESS_KEY_ID": "hub",
            "PYSETL_HUB_STORAGE_SECRET_ACCESS_KEY_FILE": str(secret_file),
            "PYSETL_HUB_STORAGE_PRESIGN_SECONDS": "300",
            "PYSETL_HUB_LOG_FORMAT": "JSON",
            "PYSETL_HUB_METRICS_TOKEN": "scrape-me",
        }
    )
    assert (s.storage_endpoint, s.storage_region) == ("http://127.0.0.1:9000", "eu-west-1")
    assert (s.storage_access_key_id, s.storage_secret_access_key) == ("hub", "s3cr3t")
    assert s.storage_presign_seconds == 300
    assert (s.log_format, s.metrics_token) == ("json", "scrape-me")
    assert "s3cr3t" not in repr(s) and "scrape-me" not in repr(s)
    defaults = Settings.from_env({})
    assert (defaults.storage_presign_seconds, defaults.log_format) == (0, "text")
    assert defaults.metrics_token is None


@pytest.mark.parametrize("value", ["-1", "5m", "٣", "1.5"])
def test_presign_seconds_must_be_a_whole_number(value: str) -> None:
    with pytest.raises(SettingsError, match="PYSETL_HUB_STORAGE_PRESIGN_SECONDS"):
        Settings.from_env({"PYSETL_HUB_STORAGE_PRESIGN_SECONDS": value})


def test_presign_seconds_stop_at_s3s_seven_days() -> None:
    """S3 refuses X-Amz-Expires past 604800: a longer setting would fail every download."""
    week = {"PYSETL_HUB_STORAGE_PRESIGN_SECONDS": "604800"}
    assert Settings.from_env(week).storage_presign_seconds == 604800
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"PYSETL_HUB_STORAGE_PRESIGN_SECONDS": "604801"})
    said = str(raised.value)
    assert "PYSETL_HUB_STORAGE_PRESIGN_SECONDS=604801" in said
    assert "604800" in said and "at most" in said


def test_log_format_is_one_of_two() -> None:
    with pytest.raises(SettingsError, match="PYSETL_HUB_LOG_FORMAT"):
        Settings.from_env({"PYSETL_HUB_LOG_FORMAT": "xml"})


def test_serial_poll_interval_takes_fractions() -> None:
    """How stale another replica's cached pages may be: the topology test runs at 0.25 s."""
    assert Settings.from_env({}).serial_poll_interval == 1.0
    env = {"PYSETL_HUB_SERIAL_POLL_INTERVAL": "0.25"}
    assert Settings.from_env(env).serial_poll_interval == 0.25


@pytest.mark.parametrize("value", ["0", "-1", "soon", "inf", "nan"])
def test_serial_poll_interval_must_be_positive(value: str) -> None:
    with pytest.raises(SettingsError, match="PYSETL_HUB_SERIAL_POLL_INTERVAL"):
        Settings.from_env({"PYSETL_HUB_SERIAL_POLL_INTERVAL": value})


def test_memory_budgets_and_pool_size() -> None:
    defaults = Settings.from_env({})
    assert defaults.page_cache_bytes == defaults.memory_file_cache_bytes == 128 * 1024 * 1024
    assert defaults.database_pool_size == 5
    s = Settings.from_env(
        {
            "PYSETL_HUB_PAGE_CACHE_BYTES": "1000000",
            "PYSETL_HUB_FILE_CACHE_BYTES": "2000000",
            "PYSETL_HUB_DATABASE_POOL_SIZE": "3",
        }
    )
    assert (s.page_cache_bytes, s.memory_file_cache_bytes, s.database_pool_size) == (
        1_000_000,
        2_000_000,
        3,
    )
    for name in ("PYSETL_HUB_PAGE_CACHE_BYTES", "PYSETL_HUB_DATABASE_POOL_SIZE"):
        with pytest.raises(SettingsError, match=name):
            Settings.from_env({name: "0"})


def test_anomaly_flag_thresholds() -> None:
    defaults = Settings.from_env({}).flags
    assert (defaults.new_owner_hours, defaults.spike_k, defaults.spike_min_days) == (24.0, 10.0, 14)
    assert (defaults.popular_downloads, defaults.wheel_grace) == (1000, 3600.0)
    flags = Settings.from_env(
        {
            "PYSETL_HUB_FLAG_NEW_OWNER_HOURS": "12",
            "PYSETL_HUB_FLAG_SPIKE_K": "3.5",
            "PYSETL_HUB_FLAG_SPIKE_MIN_DAYS": "7",
            "PYSETL_HUB_FLAG_SPIKE_MIN_COUNT": "50",
            "PYSETL_HUB_FLAG_POPULAR_DOWNLOADS": "200",
            "PYSETL_HUB_FLAG_NAME_LONG": "8",
            "PYSETL_HUB_FLAG_WHEEL_GRACE": "0",
            "PYSETL_HUB_FLAG_CHECK_INTERVAL": "0.5",
        }
    ).flags
    assert flags.new_owner_hours == 12 and flags.spike_k == 3.5 and flags.spike_min_days == 7
    assert flags.spike_min_count == 50 and flags.popular_downloads == 200
    assert flags.name_long == 8 and flags.wheel_grace == 0 and flags.check_interval == 0.5


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PYSETL_HUB_FLAG_SPIKE_K", "lots"),
        ("PYSETL_HUB_FLAG_SPIKE_K", "-1"),
        ("PYSETL_HUB_FLAG_POPULAR_DOWNLOADS", "inf"),
        ("PYSETL_HUB_FLAG_CHECK_INTERVAL", "0"),
    ],
)
def test_bad_flag_thresholds_fail_fast_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})
