"""Secure configuration: secrets from `*_FILE` paths, and production mode refusing to start
with an insecure setting (a SettingsError that names the variable)."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from pysetl_hub_server.app import create_app
from pysetl_hub_server.cli import main
from pysetl_hub_server.security.production import check_production
from pysetl_hub_server.security.secrets import SECRET_SETTINGS
from pysetl_hub_server.settings import Settings, SettingsError

STRONG_DB = "postgresql+asyncpg://hub:x7Qp-long-and-random@db:5432/hub"


def secret_file(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    path.chmod(0o600)
    return str(path)


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("PYSETL_HUB_DATABASE_URL", "database_url"),
        ("PYSETL_HUB_SEARCH_KEY", "search_key"),
        ("PYSETL_HUB_REDIS_URL", "redis_url"),
    ],
)
def test_each_secret_can_come_from_a_file(tmp_path: Path, name: str, field: str) -> None:
    assert name in SECRET_SETTINGS
    path = secret_file(tmp_path, "s", "the-value\n")  # as `echo` and editors write it
    settings = Settings.from_env({f"{name}_FILE": path})
    assert getattr(settings, field) == "the-value"
    assert "the-value" not in repr(settings) or field == "database_url"


@pytest.mark.parametrize("name", SECRET_SETTINGS)
def test_a_secret_given_both_ways_is_refused(tmp_path: Path, name: str) -> None:
    path = secret_file(tmp_path, "s", "from-file")
    with pytest.raises(SettingsError, match=f"{name} and {name}_FILE are both set"):
        Settings.from_env({name: "from-env", f"{name}_FILE": path})


def test_an_unreadable_or_empty_secret_file_is_refused(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope")
    with pytest.raises(SettingsError, match=r"PYSETL_HUB_SEARCH_KEY_FILE='.*nope' cannot be read"):
        Settings.from_env({"PYSETL_HUB_SEARCH_KEY_FILE": missing})
    empty = secret_file(tmp_path, "empty", "\n")
    with pytest.raises(SettingsError, match=r"PYSETL_HUB_SEARCH_KEY_FILE=.* is empty"):
        Settings.from_env({"PYSETL_HUB_SEARCH_KEY_FILE": empty})


FEED_KEY = base64.b64encode(bytes(range(32))).decode()  # a raw Ed25519 private key's 32 bytes


def production(**env: str) -> dict[str, str]:
    return {
        "PYSETL_HUB_ENV": "production",
        "PYSETL_HUB_BASE_URL": "https://hub.example.org",
        "PYSETL_HUB_DATABASE_URL": STRONG_DB,
        "PYSETL_HUB_FEED_SIGNING_KEY": FEED_KEY,
        **env,
    }


def test_a_secure_production_configuration_starts() -> None:
    check_production(Settings.from_env(production()))
    check_production(
        Settings.from_env(production(PYSETL_HUB_DATABASE_URL="sqlite+aiosqlite:////srv/hub.db"))
    )
    check_production(
        Settings.from_env(
            production(
                PYSETL_HUB_SEARCH_URL="http://meili:7700",
                PYSETL_HUB_SEARCH_KEY="k3y-that-nobody-guesses",
                PYSETL_HUB_REDIS_URL="redis://:an0ther-strong-one@redis:6379/0",
            )
        )
    )


DB, SEARCH, KEY = "PYSETL_HUB_DATABASE_URL", "PYSETL_HUB_SEARCH_URL", "PYSETL_HUB_SEARCH_KEY"
REFUSED = [
    ({"PYSETL_HUB_BASE_URL": ""}, "PYSETL_HUB_BASE_URL"),
    ({"PYSETL_HUB_BASE_URL": "http://hub.example.org"}, "PYSETL_HUB_BASE_URL='http://"),
    ({DB: ""}, f"needs {DB}"),
    ({DB: "postgresql+asyncpg://hub:hub@db/hub"}, f"{DB} has no password or a well-known"),
    ({DB: "postgresql+asyncpg://hub@db/hub"}, f"{DB} has no password"),
    ({SEARCH: "http://meili:7700"}, f"{KEY} is missing"),
    ({SEARCH: "http://m:7700", KEY: "hub-dev-master-key"}, f"{KEY} is missing or a well-known"),
    ({"PYSETL_HUB_REDIS_URL": "redis://:redis@r:6379/0"}, "PYSETL_HUB_REDIS_URL has"),
    ({"PYSETL_HUB_FEED_SIGNING_KEY": ""}, "PYSETL_HUB_FEED_SIGNING_KEY is not set"),
    ({"PYSETL_HUB_TLS_CERT": "/etc/hosts"}, "PYSETL_HUB_TLS_CERT and PYSETL_HUB_TLS_KEY go"),
]


@pytest.mark.parametrize(("env", "names"), REFUSED)
def test_production_refuses_an_insecure_setting(env: dict[str, str], names: str) -> None:
    settings = Settings.from_env(production(**env))
    with pytest.raises(SettingsError, match=re.escape(names)):
        check_production(settings)


def test_development_starts_with_the_defaults() -> None:
    check_production(Settings.from_env({}))
    with pytest.raises(SettingsError, match="PYSETL_HUB_ENV='staging' is not one of"):
        Settings.from_env({"PYSETL_HUB_ENV": "staging"})


def test_serve_and_the_app_refuse_an_insecure_production(tmp_path: Path) -> None:
    env = {"PYSETL_HUB_ENV": "production", "PYSETL_HUB_DATA_DIR": str(tmp_path)}
    result = CliRunner(env={**env, "PYSETL_HUB_DATABASE_URL": None}).invoke(main, ["serve"])
    assert result.exit_code == 2
    assert "PYSETL_HUB_ENV=production needs PYSETL_HUB_BASE_URL" in result.output
    with pytest.raises(SettingsError, match="PYSETL_HUB_BASE_URL"):
        create_app(Settings.from_env(env))
