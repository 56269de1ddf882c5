"""What a backup or a restore refuses, on SQLite and PostgreSQL: a backup whose blobs do not
match its manifest (named, nothing restored), a target that is not empty (left untouched), a
database it cannot reach (no backup directory left behind), a tampered dump, a schema revision
this hub does not know, and a manifest-only backup whose store lacks a blob."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from pysetl_hub_server.db.migrate import upgrade
from tests.conftest import start_hub
from tests.server.backup.conftest import Ran, fresh_url, hub_cli
from tests.support.governance import BACKENDS, wheel
from tests.support.live import LiveServer
from tests.support.postgres import PostgresServer, free_port
from tests.support.upload import upload


@dataclass
class Setup:
    request: pytest.FixtureRequest
    backend: str
    live: LiveServer
    backup: Path
    blobs: list[dict[str, object]]
    tmp: Path

    def target(self, name: str) -> tuple[Path, str]:
        """A fresh data dir and a fresh, empty database."""
        root = self.tmp / name
        return root / "data", fresh_url(self.request, root.parent, self.backend)

    def copy(self, name: str) -> Path:
        """A copy of the good backup, to spoil."""
        return Path(shutil.copytree(self.backup, self.tmp / "spoilt" / name))


@pytest.fixture(scope="module", params=BACKENDS)
def setup(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    example_dists: dict[str, Path],
) -> Iterator[Setup]:
    backend = request.param
    tmp = tmp_path_factory.mktemp(f"refusals-{backend}")
    live = start_hub(tmp / "hub", fresh_url(request, tmp, backend))
    token = live.user_with_token("alice")
    with httpx.Client(base_url=live.url, timeout=30) as http:
        for version in ("1.0.0", "1.1.0"):
            path = wheel(example_dists["csv-dedupe:wheel"], tmp / "w", "rf-tool", version)
            assert upload(http, token, path).status_code == 200
    backup = tmp / "good"
    done = hub_cli(live, "backup", str(backup))
    assert done.returncode == 0, done.stderr
    lines = (backup / "blobs.jsonl").read_text().splitlines()
    yield Setup(request, backend, live, backup, [json.loads(line) for line in lines], tmp)
    live.stop()


def tables(setup: Setup, url: str) -> list[str]:
    """The tables of a target database (none: it was left alone)."""
    if setup.backend == "sqlite":
        path = Path(url.split(":///", 1)[1])
        if not path.exists():
            return []
        with sqlite3.connect(path) as con:
            return [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]

    async def go() -> list[str]:
        engine = create_async_engine(url)
        async with engine.connect() as conn:
            found = await conn.execute(
                text("SELECT table_name FROM information_schema.tables WHERE table_schema='public'")
            )
            names = list(found.scalars())
        await engine.dispose()
        return names

    return asyncio.run(go())


def stored(data_dir: Path) -> list[str]:
    blobs = data_dir / "blobs"
    return sorted(str(p.relative_to(blobs)) for p in blobs.rglob("*") if p.is_file())


def refused(ran: Ran, *said: str) -> None:
    assert ran.returncode == 1, ran.stderr
    assert "\nerror: " in "\n" + ran.stderr  # progress lines, then the error
    for words in said:
        assert words in ran.stderr, ran.stderr


def test_a_corrupt_blob_is_named_and_nothing_is_restored(setup: Setup) -> None:
    spoilt = setup.copy("corrupt")
    victim = next(b for b in setup.blobs if b["kind"] == "file")
    path = spoilt / "blobs" / str(victim["key"])
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    target = setup.target("after-corrupt")
    refused(
        hub_cli(target, "restore", str(spoilt)),
        str(victim["key"]),
        "corrupt",
        "nothing was restored",
    )
    assert tables(setup, target[1]) == [] and not target[0].exists()


def test_a_missing_blob_is_named(setup: Setup) -> None:
    spoilt = setup.copy("missing")
    victim = next(b for b in setup.blobs if b["kind"] == "metadata")
    (spoilt / "blobs" / str(victim["key"])).unlink()
    target = setup.target("after-missing")
    refused(hub_cli(target, "restore", str(spoilt)), f"{victim['key']} (metadata of", "missing")
    assert tables(setup, target[1]) == []


def test_a_target_that_is_not_empty_is_refused_and_untouched(setup: Setup) -> None:
    live = setup.live
    before = (tables(setup, live.settings.effective_database_url), stored(live.settings.data_dir))
    # The hub's own data dir: its blobs are the first thing found.
    refused(
        hub_cli(live, "restore", str(setup.backup)), "already holds blobs", "fresh data directory"
    )
    # A fresh data dir, but the hub's database.
    fresh = (setup.tmp / "fresh-dir" / "data", live.settings.effective_database_url)
    refused(hub_cli(fresh, "restore", str(setup.backup)), "already holds tables", "fresh")
    after = (tables(setup, live.settings.effective_database_url), stored(live.settings.data_dir))
    assert after == before
    assert not (fresh[0] / "blobs").exists() or stored(fresh[0]) == []
    with httpx.Client(base_url=live.url) as http:
        assert http.get("/simple/rf-tool/").status_code == 200  # still serving


def test_an_unreachable_database_leaves_no_backup(setup: Setup) -> None:
    if setup.backend == "sqlite":
        url = f"sqlite+aiosqlite:///{setup.tmp / 'nowhere' / 'hub.sqlite3'}"
        said = "does not exist"
    else:
        url = f"postgresql+asyncpg://postgres:secret-pw@127.0.0.1:{free_port()}/nowhere"
        said = "cannot back up the database at postgresql+asyncpg://postgres:***@"
    parent = setup.tmp / "unreachable"
    ran = hub_cli((setup.tmp / "nowhere-data", url), "backup", str(parent / "b"))
    refused(ran, said)
    assert "secret-pw" not in ran.stderr
    assert list(parent.iterdir()) == []  # neither the backup nor its partial directory
    assert not (setup.tmp / "nowhere").exists()  # and no empty database created


def test_a_tampered_dump_or_an_unknown_revision_is_refused(setup: Setup) -> None:
    spoilt = setup.copy("tampered")
    header = json.loads((spoilt / "backup.json").read_text())
    with (spoilt / header["database"]).open("ab") as dump:
        dump.write(b"\0")
    target = setup.target("after-tampered")
    refused(
        hub_cli(target, "restore", str(spoilt)), header["database"], "does not match the sha256"
    )
    future = setup.copy("future")
    header["alembic_revision"] = "9999"
    (future / "backup.json").write_text(json.dumps(header))
    refused(hub_cli(target, "restore", str(future)), "'9999'", "does not know")
    header["alembic_revision"], header["database"] = "0008", "../../elsewhere"
    (future / "backup.json").write_text(json.dumps(header))
    refused(hub_cli(target, "restore", str(future)), "'../../elsewhere'", "header was edited")
    edited = setup.copy("edited-key")
    lines = (edited / "blobs.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    first["key"] = "../../outside"
    text = "".join(line + "\n" for line in [json.dumps(first), *lines[1:]])
    (edited / "blobs.jsonl").write_text(text)
    header = json.loads((edited / "backup.json").read_text())
    header["manifest_sha256"] = hashlib.sha256(text.encode()).hexdigest()
    (edited / "backup.json").write_text(json.dumps(header))
    refused(hub_cli(target, "restore", str(edited)), "'../../outside'", "not the content address")
    assert tables(setup, target[1]) == []


def test_a_destination_that_cannot_be_written_is_one_error_line(setup: Setup) -> None:
    blocker = setup.tmp / "a-file"
    blocker.write_text("not a directory")
    ran = hub_cli(setup.live, "backup", str(blocker / "b"))
    refused(ran, str(blocker))
    assert "Traceback" not in ran.stderr and blocker.read_text() == "not a directory"


def test_a_manifest_only_backup_reconciles_against_the_store(setup: Setup) -> None:
    """An object store keeps its own versions, so its backup lists the blobs without copying
    them; a restore then checks each one in the store (here the hub's blob directory stands in
    for the shared bucket) and names every one a store lacks."""
    listed = setup.tmp / "listed"
    done = hub_cli(setup.live, "backup", "--no-blobs", str(listed))
    assert done.returncode == 0, done.stderr
    assert json.loads((listed / "backup.json").read_text())["blobs_copied"] is False
    assert not (listed / "blobs").exists()
    assert (listed / "blobs.jsonl").read_text() == (setup.backup / "blobs.jsonl").read_text()

    bucket = (setup.live.settings.data_dir / "blobs").as_uri()
    target = setup.target("shared-bucket")
    done = hub_cli(target, "restore", str(listed), env={"PYSETL_HUB_STORAGE_URL": bucket})
    assert done.returncode == 0, done.stderr

    # A store that lacks the blobs is found before the load: nothing is written.
    empty = setup.target("empty-bucket")
    ran = hub_cli(empty, "restore", str(listed))
    refused(ran, "does not hold what the backup lists", "nothing was restored")
    refused(ran, *(f"{b['key']} (" for b in setup.blobs))
    assert tables(setup, empty[1]) == []

    # A bucket whose blob rotted: the restore rehashes what the store holds.
    rotten = setup.tmp / "rotten-bucket"
    shutil.copytree(setup.live.settings.data_dir / "blobs", rotten)
    victim = str(setup.blobs[0]["key"])
    (rotten / victim).write_bytes(b"not the blob")
    ran = hub_cli(
        setup.target("rotten"),
        "restore",
        str(listed),
        env={"PYSETL_HUB_STORAGE_URL": rotten.as_uri()},
    )
    refused(ran, f"{victim} (", "corrupt in the store", "12 bytes", "nothing was restored")
    assert ran.stderr.count("corrupt") == 1

    # A bucket that lost a blob: the backup itself fails, naming it, and leaves nothing.
    (rotten / victim).unlink()
    ran = hub_cli(
        setup.live,
        "backup",
        str(setup.tmp / "from-rotten" / "b"),
        env={"PYSETL_HUB_STORAGE_URL": rotten.as_uri()},
    )
    refused(ran, f"{victim} (", "missing from the store", "run the backup again")
    assert list((setup.tmp / "from-rotten").iterdir()) == []


def test_a_database_blob_the_manifest_lacks_is_named(setup: Setup) -> None:
    """A manifest short of a line (its header made to agree): the restored database references
    a blob the backup does not account for."""
    spoilt = setup.copy("short-manifest")
    lines = (spoilt / "blobs.jsonl").read_text().splitlines(keepends=True)
    dropped = json.loads(lines.pop())
    (spoilt / "blobs.jsonl").write_text("".join(lines))
    header = json.loads((spoilt / "backup.json").read_text())
    header["manifest_sha256"] = hashlib.sha256("".join(lines).encode()).hexdigest()
    (spoilt / "backup.json").write_text(json.dumps(header))
    ran = hub_cli(setup.target("short"), "restore", str(spoilt))
    refused(ran, f"{dropped['key']} (", "not in the backup's manifest")


@pytest.mark.postgres
def test_the_password_reaches_pg_dump_only_through_its_environment(
    pg_server: PostgresServer, tmp_path: Path
) -> None:
    """The real pg_dump, behind a wrapper that writes down its argv and whether PGPASSWORD was
    set, then execs it: the password is never on a command line (where `ps` shows it)."""
    url = pg_server.create_database(f"hub_{uuid.uuid4().hex[:12]}")
    upgrade(url)
    with_password = url.replace("postgres@", "postgres:pw-Secret-42@")  # trust auth ignores it
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ("pg_dump", "pg_restore"):
        wrapper = bindir / tool
        wrapper.write_text(
            "#!/bin/sh\n"
            f'echo "$0 $*" >> {tmp_path}/argv\n'
            f'echo "PGPASSWORD=$PGPASSWORD" >> {tmp_path}/env\n'
            f'exec {pg_server.bindir / tool} "$@"\n'
        )
        wrapper.chmod(0o755)
    where = (tmp_path / "data", with_password)
    ran = hub_cli(where, "backup", "--pg-bindir", str(bindir), str(tmp_path / "b"))
    assert ran.returncode == 0, ran.stderr
    target = (tmp_path / "data2", pg_server.create_database(f"hub_{uuid.uuid4().hex[:12]}"))
    target = (target[0], target[1].replace("postgres@", "postgres:pw-Secret-42@"))
    ran = hub_cli(target, "restore", "--pg-bindir", str(bindir), str(tmp_path / "b"))
    assert ran.returncode == 0, ran.stderr
    argv = (tmp_path / "argv").read_text()
    assert "pg_dump --format=custom" in argv and "pg_restore" in argv
    assert "pw-Secret-42" not in argv and "asyncpg" not in argv
    assert (tmp_path / "env").read_text() == "PGPASSWORD=pw-Secret-42\n" * 2


def spoil(setup: Setup, name: str, *, header: str | None = None, entry: object = None) -> Path:
    """A copy of the good backup with its header text replaced, or its first manifest line
    replaced by `entry` (the header's manifest sha256 made to agree)."""
    spoilt = setup.copy(name)
    if header is not None:
        (spoilt / "backup.json").write_text(header)
    if entry is not None:
        lines = (spoilt / "blobs.jsonl").read_text().splitlines()
        text = "".join(line + "\n" for line in [json.dumps(entry), *lines[1:]])
        (spoilt / "blobs.jsonl").write_text(text)
        head = json.loads((spoilt / "backup.json").read_text())
        head["manifest_sha256"] = hashlib.sha256(text.encode()).hexdigest()
        (spoilt / "backup.json").write_text(json.dumps(head))
    return spoilt


@pytest.mark.parametrize("header", ["[]", "42", '"backup"', "null"])
def test_a_header_that_is_not_an_object_is_one_error_line(setup: Setup, header: str) -> None:
    target = setup.target(f"header-{uuid.uuid4().hex[:6]}")
    ran = hub_cli(target, "restore", str(spoil(setup, f"h-{uuid.uuid4().hex[:6]}", header=header)))
    refused(ran, "backup.json is not a backup header (a JSON object)")
    assert "Traceback" not in ran.stderr
    assert tables(setup, target[1]) == []


@pytest.mark.parametrize("field", ["sha256", "key", "size", "kind"])
def test_a_manifest_entry_of_the_wrong_types_is_one_error_line(setup: Setup, field: str) -> None:
    entry = {**setup.blobs[0], field: 12345 if field != "size" else "12"}
    target = setup.target(f"types-{field}")
    ran = hub_cli(target, "restore", str(spoil(setup, f"types-{field}", entry=entry)))
    refused(ran, "blobs.jsonl line 1 is not a blob entry", field)
    assert "Traceback" not in ran.stderr
    assert tables(setup, target[1]) == []


def test_reading_a_database_that_fails_is_a_backup_error(setup: Setup) -> None:
    """The reconcile's read of a database that is not a hub's, or not there: a BackupError
    (one line), never a traceback, on either backend."""
    from pysetl_hub_server.backup import database
    from pysetl_hub_server.backup.layout import BackupError

    empty = fresh_url(setup.request, setup.tmp, setup.backend)
    with pytest.raises(BackupError, match="cannot read the database at") as raised:
        asyncio.run(database.read(empty))  # no tables at all
    assert "\n" not in str(raised.value)
    gone = (
        f"postgresql+asyncpg://nobody@127.0.0.1:{free_port()}/nothing"
        if setup.backend == "postgres"
        else f"sqlite+aiosqlite:///{setup.tmp / 'no' / 'such' / 'hub.sqlite3'}"
    )
    with pytest.raises(BackupError, match="cannot read the database at"):
        asyncio.run(database.read(gone))
