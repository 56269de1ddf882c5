"""Backup drills: a live hub (SQLite or PostgreSQL) with published, yanked and deleted files,
and the real `pysetl-hub-server backup`/`restore` run against it as an operator runs them."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from pysetl_hub_server.cli import main
from tests.support.governance import bearer, wheel
from tests.support.live import LiveServer
from tests.support.upload import upload

BIN = Path(sys.executable).parent
JSON = {"Accept": "application/vnd.pypi.simple.v1+json"}


@dataclass
class Ran:
    returncode: int
    stderr: str


def hub_cli(
    where: LiveServer | tuple[Path, str],
    *args: str,
    process: bool = False,
    env: dict[str, str | None] | None = None,
) -> Ran:
    """The server CLI on a live hub's data dir and database (or given ones): as a subprocess
    (`process`, the program an operator runs) or in this process (the same command, without
    the seconds an interpreter start costs)."""
    if isinstance(where, LiveServer):
        data_dir, url = where.settings.data_dir, where.settings.effective_database_url
    else:
        data_dir, url = where
    argv = ["--data-dir", str(data_dir), "--database-url", url, *args]
    clean: dict[str, str | None] = {"PYSETL_HUB_STORAGE_URL": None, **(env or {})}
    if process:
        environ = {k: v for k, v in os.environ.items() if k not in clean}
        environ.update({k: v for k, v in clean.items() if v is not None})
        done = subprocess.run(
            [str(BIN / "pysetl-hub-server"), *argv],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            env=environ,
        )
        return Ran(done.returncode, done.stderr)
    result = CliRunner(env=clean).invoke(main, argv)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Ran(result.exit_code, result.stderr)


def fresh_url(request: pytest.FixtureRequest, tmp: Path, backend: str) -> str:
    """A new, empty database of the backend: an SQLite path, or a new PostgreSQL database."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp / f'hub-{uuid.uuid4().hex[:8]}.sqlite3'}"
    pg = request.getfixturevalue("pg_server")
    return str(pg.create_database(f"hub_{uuid.uuid4().hex[:12]}"))


@dataclass
class Catalog:
    """What the drill published: wheels by (name, version), and which were yanked or deleted."""

    token: str
    wheels: dict[tuple[str, str], Path]
    yanked: tuple[str, str]
    deleted: Path


def publish_catalog(live: LiveServer, source: Path, out: Path, sdist: Path) -> Catalog:
    """Several components and releases, one yanked, one file deleted (its name burned)."""
    token = live.user_with_token("alice")
    wheels: dict[tuple[str, str], Path] = {}
    with httpx.Client(base_url=live.url, timeout=30) as http:
        for name, version in [
            ("bk-alpha", "1.0.0"),
            ("bk-alpha", "1.1.0"),
            ("bk-beta", "0.1.0"),
            ("bk-beta", "0.2.0"),
            ("bk-gamma", "2.0.0"),
        ]:
            path = wheel(source, out, name, version)
            r = upload(http, token, path)
            assert r.status_code == 200, r.text
            wheels[(name, version)] = path
        assert upload(http, token, sdist).status_code == 200  # a real sdist beside the wheels
        auth = bearer(token)
        r = http.post(
            "/api/v1/components/bk-alpha/1.0.0/yank", json={"reason": "drill"}, headers=auth
        )
        assert r.status_code == 200, r.text
        deleted = wheels.pop(("bk-beta", "0.1.0"))
        r = http.delete(f"/api/v1/components/bk-beta/0.1.0/files/{deleted.name}", headers=auth)
        assert r.status_code == 200, r.text
    return Catalog(token, wheels, ("bk-alpha", "1.0.0"), deleted)
