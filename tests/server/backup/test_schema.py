"""A restore ends at this hub's schema: a backup of an older revision is upgraded after the
load, on SQLite and PostgreSQL. And an SQLite target is empty only without a stray journal,
which SQLite would replay into the restored file."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from pysetl_hub_server.backup.database import read
from pysetl_hub_server.db.migrate import alembic_config, upgrade
from tests.server.backup.conftest import fresh_url, hub_cli


def test_an_older_schema_is_restored_then_upgraded(
    database_url: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    upgrade(database_url, "0007")
    ran = hub_cli((tmp_path / "old", database_url), "backup", str(tmp_path / "b"))
    assert ran.returncode == 0, ran.stderr
    assert "(revision 0007)" in ran.stderr
    backend = "sqlite" if database_url.startswith("sqlite") else "postgres"
    target = fresh_url(request, tmp_path, backend)
    ran = hub_cli((tmp_path / "new", target), "restore", str(tmp_path / "b"))
    assert ran.returncode == 0, ran.stderr
    head = ScriptDirectory.from_config(alembic_config(target)).get_current_head()
    assert head != "0007"
    assert asyncio.run(read(target)).revision == head


def test_a_stray_sqlite_journal_makes_the_target_not_empty(tmp_path: Path) -> None:
    source = (tmp_path / "src", f"sqlite+aiosqlite:///{tmp_path / 'src.sqlite3'}")
    upgrade(source[1])
    assert hub_cli(source, "backup", str(tmp_path / "b")).returncode == 0
    target = tmp_path / "dst.sqlite3"
    stray = tmp_path / "dst.sqlite3-wal"
    stray.write_bytes(b"\x37\x7f\x06\x82" + bytes(60))  # a WAL header, left by another database
    ran = hub_cli(
        (tmp_path / "dst", f"sqlite+aiosqlite:///{target}"), "restore", str(tmp_path / "b")
    )
    assert ran.returncode == 1 and "dst.sqlite3-wal" in ran.stderr, ran.stderr
    assert not target.exists() and stray.read_bytes()[:4] == b"\x37\x7f\x06\x82"
