"""A full disk answers 507 `storage.full` and keeps nothing; once space is freed, the same upload
succeeds.

The server is a real `pysetl-hub-server serve` process in a mount namespace of its own, where
its data directory, its spool and its blob store are three small tmpfs mounts. Each test fills
one of them to the last page with a real file, so the write that fails is the server's own:
spooling the body, storing the blob (or its metadata file), SQLite committing.
"""

from __future__ import annotations

import hashlib
import os
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from pysetl_hub_server.storage.blobs import blob_key
from tests.support import postgres
from tests.support.dists import repack
from tests.support.served import (
    Served,
    Tmpfs,
    fill,
    free,
    require_mount_namespaces,
    serve,
)
from tests.support.upload import problem, upload

PAGE = 4096
CHECKPOINT = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1] + "/hub.sqlite3")
print(db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0])
"""


@dataclass
class FullHub:
    served: Served
    token: str
    http: httpx.Client

    def path(self, *parts: str) -> Path:
        """A path of the data directory, as the test reaches it in the server's namespace."""
        return self.served.view(self.served.data_dir.joinpath(*parts))


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def hub(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FullHub]:
    require_mount_namespaces()
    tmp = tmp_path_factory.mktemp(f"full-{request.param}")
    data = tmp / "hub-data"
    url = None
    if request.param == "postgres":
        pg: postgres.PostgresServer = request.getfixturevalue("pg_server")
        url = pg.create_database(f"full_{os.getpid()}")
    served = serve(
        data,
        tmp / "server.log",
        database_url=url,
        mounts=(Tmpfs(data, "16m"), Tmpfs(data / "spool", "2m"), Tmpfs(data / "blobs", "2m")),
    )
    try:
        token = served.token(url)
        with httpx.Client(base_url=served.url, timeout=60) as http:
            yield FullHub(served, token, http)
    finally:
        served.stop()


def wheel(example_dists: dict[str, Path], out: Path, version: str, padding: int = 0) -> Path:
    """csv-dedupe at `version`, made `padding` bytes bigger by an incompressible member."""

    def pad(members: dict[str, bytes]) -> None:
        members["csv_dedupe/padding.bin"] = os.urandom(padding)

    return repack(example_dists["csv-dedupe:wheel"], out, version=version, mutate=pad)


def metadata_sha256(path: Path) -> str:
    with zipfile.ZipFile(path) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        return hashlib.sha256(zf.read(name)).hexdigest()


def insufficient(response: httpx.Response) -> None:
    assert response.status_code == 507, (response.status_code, response.text[:500])
    body = problem(response)
    assert body["code"] == "storage.full", body
    assert "storage is full" in body["detail"] and "free disk space" in body["detail"]


def assert_nothing_kept(hub: FullHub, dist: Path) -> None:
    """No spool file, no temp file, no blob (of the file or of its metadata), no release."""
    assert {p.name for p in hub.path("spool").iterdir()} <= {"filler"}
    assert not any(hub.path("blobs", ".tmp").iterdir())
    digest = hashlib.sha256(dist.read_bytes()).hexdigest()
    assert not hub.path("blobs", blob_key(digest)).exists()
    assert not hub.path("blobs", blob_key(metadata_sha256(dist))).exists()
    assert dist.name not in hub.http.get("/simple/csv-dedupe/").text


def published(hub: FullHub, dist: Path) -> None:
    r = upload(hub.http, hub.token, dist)
    assert r.status_code == 200 and r.json()["created"] is True, r.text
    assert dist.name in hub.http.get("/simple/csv-dedupe/").text


@pytest.mark.parametrize(
    ("version", "padding"),
    [
        ("1.1.0", 256 * 1024),  # fails at a write, while the body still streams in
        ("1.1.1", 0),  # smaller than the write buffer: fails at the last flush
    ],
)
def test_a_full_spool_is_507_and_keeps_nothing(
    hub: FullHub, example_dists: dict[str, Path], tmp_path: Path, version: str, padding: int
) -> None:
    dist = wheel(example_dists, tmp_path, version, padding=padding)
    filler = fill(hub.path("spool"))
    try:
        r = upload(hub.http, hub.token, dist)
        insufficient(r)
        assert r.headers.get("connection") == "close"  # the rest of the body was never read
        assert_nothing_kept(hub, dist)
    finally:
        filler.unlink()
    published(hub, dist)


def test_a_full_blob_store_is_507_and_keeps_nothing(
    hub: FullHub, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    dist = wheel(example_dists, tmp_path, "1.2.0", padding=64 * 1024)
    filler = fill(hub.path("blobs"))
    try:
        insufficient(upload(hub.http, hub.token, dist))
        assert_nothing_kept(hub, dist)
    finally:
        filler.unlink()
    published(hub, dist)


def test_a_disk_full_after_the_file_blob_drops_it_with_the_metadata(
    hub: FullHub, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    """Room for the file's blob and not for its metadata file: the blob written must go too."""
    dist = wheel(example_dists, tmp_path, "1.3.0")
    assert dist.stat().st_size <= PAGE  # the file takes the one page left, the metadata none
    filler = fill(hub.path("blobs"))
    try:
        free(filler, PAGE)
        insufficient(upload(hub.http, hub.token, dist))
        assert_nothing_kept(hub, dist)
    finally:
        filler.unlink()
    published(hub, dist)


@pytest.mark.parametrize("hub", ["sqlite"], indirect=True)
def test_a_full_disk_under_sqlite_is_507_and_keeps_nothing(
    hub: FullHub, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    dist = wheel(example_dists, tmp_path, "1.4.0")
    # An empty write-ahead log, so the next commit has to grow it (a longer log is reused).
    busy = hub.served.inside(sys.executable, "-c", CHECKPOINT, str(hub.served.data_dir))
    assert busy.strip() == "0"
    filler = fill(hub.path())
    try:
        insufficient(upload(hub.http, hub.token, dist))
        assert_nothing_kept(hub, dist)
    finally:
        filler.unlink()
    published(hub, dist)
