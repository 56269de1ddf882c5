"""Where settings come from, and how tokens are kept."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from pysetl_hub.config import Config, config_path, origin, save_token, set_value, write_file
from pysetl_hub.errors import ConfigError


def test_arguments_beat_environment_beat_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    write_file(path, {"url": "http://file.example:8000", "installer": "uv"})
    save_token(path, "http://file.example:8000", "pshub_file")
    assert Config.load(path=path, env={}).url == "http://file.example:8000"
    assert Config.load(path=path, env={}).token == "pshub_file"
    env = {"PYSETL_HUB_URL": "https://env.example/", "PYSETL_HUB_TOKEN": "pshub_env"}
    from_env = Config.load(path=path, env=env)
    assert (from_env.url, from_env.token) == ("https://env.example", "pshub_env")
    from_args = Config.load(url="http://arg.example", token="pshub_arg", path=path, env=env)
    assert (from_args.url, from_args.token) == ("http://arg.example", "pshub_arg")
    assert from_args.installer == "uv"
    # a stored token belongs to its origin only
    assert Config.load(url="http://arg.example", path=path, env={}).token is None


def test_file_mode(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "config.toml"
    set_value(path, "url", "http://a.example")
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    save_token(path, "http://a.example", "pshub_x")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_bad_settings_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="must start with http"):
        Config.load(url="ftp://x", path=tmp_path / "none.toml", env={})
    bad = tmp_path / "bad.toml"
    bad.write_text("url = [")
    with pytest.raises(ConfigError, match="cannot read"):
        Config.load(path=bad, env={})
    write_file(bad, {"installer": "conda"})
    with pytest.raises(ConfigError, match="installer must be"):
        Config.load(path=bad, env={})
    with pytest.raises(ConfigError, match="unknown setting"):
        set_value(bad, "colour", "red")


def test_paths_and_origins() -> None:
    assert config_path({"XDG_CONFIG_HOME": "/x"}) == Path("/x/pysetl-hub/config.toml")
    assert config_path({"PYSETL_HUB_CONFIG": "/y.toml"}) == Path("/y.toml")
    assert origin("https://Hub.Example:443/simple/") == "https://hub.example"
    assert origin("http://127.0.0.1:8000/x") == "http://127.0.0.1:8000"
