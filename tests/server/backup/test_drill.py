"""The restore drill, on SQLite and on PostgreSQL: publish through a live hub, yank, delete, back
up with the real CLI while the hub serves, restore into a fresh data dir and a fresh database,
start a hub on the result, and compare everything a client sees."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import start_hub
from tests.server.backup.conftest import JSON, Catalog, fresh_url, hub_cli, publish_catalog
from tests.support.governance import BACKENDS, bearer, wheel
from tests.support.live import LiveServer
from tests.support.upload import problem, upload

NAMES = ["bk-alpha", "bk-beta", "bk-gamma", "csv-dedupe"]


@dataclass
class Drill:
    original: LiveServer
    restored: LiveServer
    catalog: Catalog
    backup: Path
    header: dict[str, object]
    pages: dict[str, str]  # what the original served before the backup, by path and media
    out: Path
    source: Path


def index_pages(live: LiveServer) -> dict[str, str]:
    """Every index page (HTML and JSON), with the server's own address taken out."""
    pages = {}
    with httpx.Client(base_url=live.url, timeout=30) as http:
        for path in ["/simple/", *(f"/simple/{n}/" for n in NAMES)]:
            for media, headers in (("html", {}), ("json", JSON)):
                r = http.get(path, headers=headers)
                assert r.status_code == 200, (path, r.text)
                pages[f"{path} {media}"] = r.text.replace(live.url, "http://HUB")
    return pages


@pytest.fixture(scope="module", params=BACKENDS)
def drill(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    example_dists: dict[str, Path],
) -> Iterator[Drill]:
    backend = request.param
    sigstore = request.getfixturevalue("sigstore").trusted_root
    tmp = tmp_path_factory.mktemp(f"drill-{backend}")
    original = start_hub(
        tmp / "original", fresh_url(request, tmp, backend), sigstore_trust_root=sigstore
    )
    source = example_dists["csv-dedupe:wheel"]
    catalog = publish_catalog(original, source, tmp / "wheels", example_dists["csv-dedupe:sdist"])
    pages = index_pages(original)

    # The real program, as an operator runs it, on one backend; the same command in-process on
    # the other (an interpreter start costs seconds).
    process = backend == "sqlite"
    backup = tmp / "backups" / "nightly"
    # PostgreSQL: the test cluster's own tools, named as an operator would (--pg-bindir).
    tools = [] if process else ["--pg-bindir", str(request.getfixturevalue("pg_server").bindir)]
    done = hub_cli(original, "backup", *tools, str(backup), process=process)  # it serves on
    assert done.returncode == 0, done.stderr
    assert f"backup written to {backup}" in done.stderr

    target = (tmp / "restored" / "data", fresh_url(request, tmp, backend))
    done = hub_cli(target, "restore", *tools, str(backup), process=process)
    assert done.returncode == 0, done.stderr
    assert "blobs reconciled" in done.stderr
    restored = start_hub(tmp / "restored", target[1], sigstore_trust_root=sigstore)
    assert restored.settings.data_dir == target[0]
    header = json.loads((backup / "backup.json").read_text())
    yield Drill(original, restored, catalog, backup, header, pages, tmp / "wheels", source)
    restored.stop()
    original.stop()


def test_the_backup_describes_itself(drill: Drill) -> None:
    """Header: hub version, revision, dialect, serial at dump time, timestamp; a manifest line
    per referenced blob (each file and its metadata) with sha256 and size."""
    h = drill.header
    assert h["dialect"] == (
        "sqlite" if "sqlite" in drill.original.settings.effective_database_url else "postgresql"
    )
    assert h["alembic_revision"] and h["hub_version"] and h["created"]
    serial = int(drill.original.run(_serial))
    assert h["serial"] == serial  # nothing changed on the original since the backup
    lines = [json.loads(line) for line in (drill.backup / "blobs.jsonl").read_text().splitlines()]
    files = [b for b in lines if b["kind"] == "file"]
    assert len(files) == len(drill.catalog.wheels) + 1  # the wheels left, and the sdist
    assert {b["filename"] for b in lines if b["kind"] == "metadata"} >= {
        p.name for p in drill.catalog.wheels.values()
    }
    for blob in lines:
        data = (drill.backup / "blobs" / blob["key"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == blob["sha256"] and len(data) == blob["size"]
    assert drill.catalog.deleted.name not in {b["filename"] for b in lines}
    assert not list(drill.backup.parent.glob(".*partial*"))  # only the finished backup


async def _serial(hub: object) -> int:
    from pysetl_hub_server.simple.services import current_serial

    async with hub.sessions() as session:  # type: ignore[attr-defined]
        return await current_serial(session)


def test_index_pages_are_the_same(drill: Drill) -> None:
    assert index_pages(drill.restored) == drill.pages


def test_every_file_downloads_with_its_sha256(drill: Drill) -> None:
    with (
        httpx.Client(base_url=drill.original.url, timeout=30) as a,
        httpx.Client(base_url=drill.restored.url, timeout=30) as b,
    ):
        for name in NAMES:
            files = b.get(f"/simple/{name}/", headers=JSON).json()["files"]
            assert files
            for f in files:
                got = b.get(f["url"])
                assert got.status_code == 200, f["url"]
                assert hashlib.sha256(got.content).hexdigest() == f["hashes"]["sha256"]
                assert got.content == a.get(f["url"]).content
                if f["core-metadata"]:  # wheels (PEP 658); the sdist has none
                    meta = b.get(f["url"] + ".metadata")
                    assert meta.status_code == 200
                    digest = hashlib.sha256(meta.content).hexdigest()
                    assert digest == f["core-metadata"]["sha256"]


def test_yank_state_survives(drill: Drill) -> None:
    name, version = drill.catalog.yanked
    with httpx.Client(base_url=drill.restored.url, timeout=30) as http:
        files = http.get(f"/simple/{name}/", headers=JSON).json()["files"]
        yanked = {f["filename"]: f["yanked"] for f in files}
        assert yanked == {
            p.name: ("drill" if v == version else False)
            for (n, v), p in drill.catalog.wheels.items()
            if n == name
        }


def test_the_audit_chain_survives(drill: Drill) -> None:
    before = hub_cli(drill.original, "audit", "verify")
    after = hub_cli(drill.restored, "audit", "verify")
    assert before.returncode == after.returncode == 0, after.stderr
    assert after.stderr == before.stderr  # same number of events, same head hash
    assert "audit chain ok" in after.stderr


def test_the_deleted_filename_stays_burned(drill: Drill) -> None:
    with httpx.Client(base_url=drill.restored.url, timeout=30) as http:
        r = upload(http, drill.catalog.token, drill.catalog.deleted)
        assert r.status_code == 409 and problem(r)["code"] == "file.deleted"


def test_the_serial_never_goes_backwards(drill: Drill) -> None:
    """Runs last (it publishes): the next change on the restored hub gets a serial above every
    serial in the backup, and the restored hub's own caches serve the change."""
    path = wheel(drill.source, drill.out / "after", "bk-gamma", "3.0.0")
    with httpx.Client(base_url=drill.restored.url, timeout=30) as http:
        before = http.get("/simple/bk-gamma/", headers=JSON)  # cached now
        assert int(before.headers["x-pypi-last-serial"]) == _component_serial(drill, "bk-gamma")
        assert upload(http, drill.catalog.token, path).status_code == 200
        page = http.get("/simple/bk-gamma/", headers=JSON)
        assert path.name in [f["filename"] for f in page.json()["files"]]
        assert int(page.headers["x-pypi-last-serial"]) > int(str(drill.header["serial"]))
        r = http.post(
            "/api/v1/components/bk-gamma/2.0.0/yank",
            json={"reason": "x"},
            headers=bearer(drill.catalog.token),
        )
        assert r.status_code == 200
    assert drill.restored.run(_serial) > int(str(drill.header["serial"])) + 1


def _component_serial(drill: Drill, name: str) -> int:
    with httpx.Client(base_url=drill.original.url, timeout=30) as http:
        return int(http.get(f"/simple/{name}/", headers=JSON).headers["x-pypi-last-serial"])
