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


def test_tokens_create_takes_a_name_actions_components_and_never_expires(tmp_path: Path) -> None:
    import asyncio
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select

    from pysetl_hub_server.db.models import ApiToken, Component
    from pysetl_hub_server.runtime import open_hub
    from pysetl_hub_server.settings import Settings

    data = str(tmp_path / "data")
    run("users", "create", "carol", "--email", "c@example.org", "--data-dir", data,
        input="password123\n")  # fmt: skip

    async def rows() -> list[ApiToken]:
        async with open_hub(Settings(data_dir=tmp_path / "data")) as hub, hub.sessions() as s:
            if await s.scalar(select(Component)) is None:
                s.add(Component(name="csv-dedupe", display_name="csv-dedupe"))
                await s.commit()
            return list(await s.scalars(select(ApiToken).order_by(ApiToken.id)))

    asyncio.run(rows())  # makes the component a scoped token names
    run("tokens", "create", "carol", "--data-dir", data)
    run("tokens", "create", "carol", "--data-dir", data, "--name", "ci", "--action", "upload",
        "--action", "yank", "--component", "csv-dedupe", "--never-expires")  # fmt: skip
    default, chosen = asyncio.run(rows())
    soon = datetime.now(UTC) + timedelta(days=90)
    assert default.expires_at is not None and abs((default.expires_at - soon).total_seconds()) < 60
    assert (default.actions, default.component_ids, default.origin) == (
        ["upload", "yank", "manage"], None, "admin",
    )  # fmt: skip
    assert (chosen.name, chosen.actions, chosen.expires_at) == ("ci", ["upload", "yank"], None)
    assert chosen.component_ids is not None and len(chosen.component_ids) == 1
    bad = CliRunner(env=CLEAN).invoke(
        main, ["tokens", "create", "carol", "--data-dir", data, "--never-expires",
               "--expires-days", "3"],
    )  # fmt: skip
    assert bad.exit_code == 2
