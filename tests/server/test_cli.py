"""`pysetl-hub-server`: --data-dir and --database-url work before or after any subcommand,
and the one after the subcommand wins."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from pysetl_hub_server.cli import main

CLEAN = {"PYSETL_HUB_DATA_DIR": None, "PYSETL_HUB_DATABASE_URL": None}


def run(*args: str, input: str | None = None) -> Result:
    result = CliRunner(env=CLEAN).invoke(main, list(args), input=input)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def test_data_dir_after_the_subcommand(tmp_path: Path) -> None:
    run("db", "upgrade", "--data-dir", str(tmp_path / "after"))
    assert (tmp_path / "after" / "hub.sqlite3").is_file()
    run("db", "--data-dir", str(tmp_path / "middle"), "upgrade")
    assert (tmp_path / "middle" / "hub.sqlite3").is_file()


def test_the_subcommand_value_wins(tmp_path: Path) -> None:
    before, after = tmp_path / "before", tmp_path / "after"
    run("--data-dir", str(before), "db", "upgrade", "--data-dir", str(after))
    assert (after / "hub.sqlite3").is_file() and not before.exists()


def test_database_url_after_the_subcommand(tmp_path: Path) -> None:
    db = tmp_path / "elsewhere.sqlite3"
    data = tmp_path / "data"
    run("users", "create", "carol", "--email", "carol@example.org", "--data-dir", str(data),
        "--database-url", f"sqlite+aiosqlite:///{db}", input="password123\n")  # fmt: skip
    assert db.is_file() and not (data / "hub.sqlite3").exists()
    token = run(
        "tokens", "create", "carol", "--database-url", f"sqlite+aiosqlite:///{db}"
    ).stdout.strip()
    assert token.startswith("pshub_")
