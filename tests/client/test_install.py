"""install / list / uninstall into fresh virtual environments with real pip and uv."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pysetl_hub.cli import main
from pysetl_hub.config import Config
from pysetl_hub.environment import Environment
from pysetl_hub.install import FileCache, sha256_of

UV = str(Path(sys.executable).parent / "uv")


def cli(config: Config, *args: str) -> Result:
    env = {
        "PYSETL_HUB_URL": config.url,
        "PYSETL_HUB_CONFIG": str(config.path),
        "PYSETL_HUB_CACHE_DIR": str(config.cache_dir),
        "NO_COLOR": "1",
    }
    result = CliRunner(env=env).invoke(main, list(args))
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def venv_python(root: Path, *, with_pip: bool) -> str:
    if with_pip:
        subprocess.run([sys.executable, "-m", "venv", str(root)], check=True)
    else:
        subprocess.run(
            [UV, "venv", "--no-config", "-q", "-p", sys.executable, str(root)], check=True
        )
    return str(root / "bin" / "python")


def test_pip_install_list_uninstall(config: Config, tmp_path: Path) -> None:
    python = venv_python(tmp_path / "venv", with_pip=True)
    env = Environment.probe(python)
    assert env.python == python and env.pysetl is None and env.pyspark is None
    cli(config, "install", "csv-dedupe", "--python", python, "--no-deps", "--installer", "pip")
    listed = json.loads(cli(config, "list", "--python", python, "--json").stdout)
    assert listed == [
        {
            "distribution": "csv-dedupe",
            "version": "1.0.0",
            "kinds": ["factory"],
            "entry_points": ["CsvDedupe"],
            "hub": config.url,
        }
    ]
    # The installed RECORD points at the cached, verified file (direct_url.json).
    cached = FileCache(config.cache_dir).root
    files = list(cached.rglob("*.whl"))
    assert len(files) == 1
    direct = next((tmp_path / "venv").rglob("csv_dedupe-1.0.0.dist-info/direct_url.json"))
    assert json.loads(direct.read_text())["url"] == files[0].as_uri()
    cli(config, "uninstall", "csv-dedupe", "--python", python)
    assert json.loads(cli(config, "list", "--python", python, "--json").stdout) == []


def test_uv_install(config: Config, tmp_path: Path) -> None:
    python = venv_python(tmp_path / "uvenv", with_pip=False)
    cli(
        config,
        "install",
        "daily-sales-pipeline",
        "--python",
        python,
        "--no-deps",
        "--installer",
        "uv",
    )
    listed = json.loads(cli(config, "list", "--python", python, "--json").stdout)
    assert [(i["distribution"], i["kinds"]) for i in listed] == [
        ("daily-sales-pipeline", ["factory", "pipeline"])
    ]
    cli(config, "uninstall", "daily-sales-pipeline", "--python", python, "--installer", "uv")
    assert json.loads(cli(config, "list", "--python", python, "--json").stdout) == []


def test_a_cached_file_changed_on_disk_is_fetched_again(config: Config, tmp_path: Path) -> None:
    python = venv_python(tmp_path / "uvenv", with_pip=False)
    args = ("install", "csv-dedupe", "--python", python, "--no-deps", "--installer", "uv")
    cli(config, *args)
    (cached,) = FileCache(config.cache_dir).root.rglob("*.whl")
    good = sha256_of(cached)
    cached.write_bytes(b"tampered")
    cli(config, *args)
    assert sha256_of(cached) == good


def test_installer_failure_is_reported(config: Config, tmp_path: Path) -> None:
    """A target without pip: the installer's own error comes back with exit code 6."""
    python = venv_python(tmp_path / "nopip", with_pip=False)
    env = {
        "PYSETL_HUB_URL": config.url,
        "PYSETL_HUB_CONFIG": str(config.path),
        "PYSETL_HUB_CACHE_DIR": str(config.cache_dir),
    }
    result = CliRunner(env=env).invoke(
        main, ["install", "csv-dedupe", "--python", python, "--no-deps", "--installer", "pip"]
    )
    assert result.exit_code == 6, result.stderr
    assert "No module named pip" in result.stderr


@pytest.mark.parametrize("version", ["3.9", "3.12.1"])
def test_explicit_python_version_changes_tags_and_markers(version: str) -> None:
    env = Environment.probe().override(python_version=version, pysetl="1.2.1", pyspark="3.5")
    major_minor = "".join(version.split(".")[:2])
    assert env.tags[0].startswith(f"cp{major_minor}-cp{major_minor}")
    assert env.markers["python_version"] == ".".join(version.split(".")[:2])
    assert (env.pysetl, env.pyspark) == ("1.2.1", "3.5")
