"""A backup taken while uploads keep arriving is still one consistent instant: the manifest
lists exactly the files of the dump, so its restore reconciles, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import httpx
import pytest

from pysetl_hub_server.backup.database import read
from tests.conftest import start_hub
from tests.server.backup.conftest import fresh_url, hub_cli
from tests.support.governance import BACKENDS, wheel
from tests.support.upload import upload


@pytest.mark.parametrize("backend", BACKENDS)
def test_backups_taken_during_uploads_restore_and_reconcile(
    backend: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    example_dists: dict[str, Path],
) -> None:
    live = start_hub(tmp_path / "hub", fresh_url(request, tmp_path, backend))
    token = live.user_with_token("alice")
    wheels = [
        wheel(example_dists["csv-dedupe:wheel"], tmp_path / "w", "load-tool", f"1.0.{n}")
        for n in range(24)
    ]
    statuses: list[int] = []
    stop = threading.Event()

    def keep_uploading() -> None:
        with httpx.Client(base_url=live.url, timeout=30) as http:
            for path in wheels:
                if stop.is_set():
                    return
                statuses.append(upload(http, token, path).status_code)

    uploader = threading.Thread(target=keep_uploading)
    uploader.start()
    try:
        while len(statuses) < 3:  # uploads are flowing
            assert uploader.is_alive()
            threading.Event().wait(0.02)
        taken = []
        for n in range(2):
            dest = tmp_path / f"backup-{n}"
            ran = hub_cli(live, "backup", str(dest))
            assert ran.returncode == 0, ran.stderr
            taken.append((dest, len(statuses)))
    finally:
        stop.set()
        uploader.join(timeout=60)
        live.stop()
    assert set(statuses) == {200}
    assert taken[0][1] < len(wheels), "the uploads ended before the backups began"
    for dest, _ in taken:
        header = json.loads((dest / "backup.json").read_text())
        files = [
            line
            for line in (dest / "blobs.jsonl").read_text().splitlines()
            if json.loads(line)["kind"] == "file"
        ]
        target = (tmp_path / f"restored-{dest.name}", fresh_url(request, tmp_path, backend))
        ran = hub_cli(target, "restore", str(dest))
        assert ran.returncode == 0, ran.stderr
        assert f"serial {header['serial']}, {header['blob_count']} blobs reconciled" in ran.stderr
        restored = asyncio.run(read(target[1]))
        # Exactly the dump's files: not one the uploads added after the snapshot.
        assert sorted(json.loads(line)["filename"] for line in files) == sorted(
            f.filename for f in restored.files
        )
        assert 0 < len(files) <= len(wheels)
