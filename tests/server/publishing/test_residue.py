"""The residue harness sees what an upload leaves: rows, serial, blobs, temporary files.

The refusal tables and the mutation test trust `assert_no_residue` to fail when something is
left; here each kind of trace is left on purpose and must be reported.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import text, update

from pysetl_hub_server.db.models import Base, Component
from pysetl_hub_server.hub import Hub
from tests.support.live import LiveServer
from tests.support.residue import assert_no_residue, residue, snapshot
from tests.support.upload import upload

WHEEL = "csv-dedupe:wheel"


def test_every_model_table_is_in_the_snapshot(live: LiveServer) -> None:
    taken = snapshot(live)
    assert set(Base.metadata.tables) <= set(taken.rows)
    assert residue(taken, snapshot(live)) == []
    assert_no_residue(taken, snapshot(live))


def test_an_accepted_upload_is_all_residue(
    live: LiveServer, http: httpx.Client, example_dists: dict[str, Path]
) -> None:
    token = live.user_with_token("alice")
    before = snapshot(live)
    assert upload(http, token, example_dists[WHEEL]).status_code == 200
    found = "\n".join(residue(before, snapshot(live)))
    for table in ("components", "releases", "files", "filename_registry", "roles", "search_docs"):
        assert f"table {table}: 0 -> 1 rows" in found, found
    events = before.rows["audit_events"].total()  # the user and token alice got
    assert f"table audit_events: {events} -> {events + 3} rows" in found  # component, release, file
    assert f"serial: {before.serial} -> {before.serial + 3}" in found
    assert "blobs added: sha256/" in found and "(and" not in found.split("blobs added")[1][:200]
    with pytest.raises(AssertionError, match="left residue"):
        assert_no_residue(before, snapshot(live))


def test_a_changed_row_is_residue_though_the_counts_agree(
    live: LiveServer, http: httpx.Client, example_dists: dict[str, Path]
) -> None:
    assert upload(http, live.user_with_token("alice"), example_dists[WHEEL]).status_code == 200
    before = snapshot(live)

    async def flip(hub: Hub) -> None:
        async with hub.sessions() as s:
            await s.execute(update(Component).values(require_attestations=True))
            await s.commit()

    live.run(flip)
    (line,) = residue(before, snapshot(live))
    assert (
        line.startswith("table components: 1 -> 1 rows; added (") and "removed or changed" in line
    )


def test_a_table_outside_the_models_is_covered_too(live: LiveServer) -> None:
    before = snapshot(live)

    async def create(hub: Hub) -> None:
        async with hub.sessions() as s:
            await s.execute(text("CREATE TABLE stray (x INTEGER)"))
            await s.execute(text("INSERT INTO stray VALUES (1)"))
            await s.commit()

    live.run(create)
    assert residue(before, snapshot(live)) == ["table stray: 0 -> 1 rows; added (1,)"]


def test_files_left_in_the_spool_the_blob_temp_or_the_data_directory(live: LiveServer) -> None:
    before = snapshot(live)
    (live.hub.spool_dir / "tmpx.upload").write_bytes(b"half an upload")
    temp = live.hub.blobs.temp_dir()
    assert temp is not None
    (temp / "tmpblob").write_bytes(b"half a blob")
    (live.settings.data_dir / "stray.bin").write_bytes(b"?")
    assert residue(before, snapshot(live)) == [
        "spool files added: tmpx.upload",
        "blob store .tmp files added: tmpblob",
        "data directory files added: stray.bin",
    ]
