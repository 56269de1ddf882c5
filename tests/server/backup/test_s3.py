"""A hub on S3 (moto's S3 server over loopback, a versioned bucket): its backup lists the blobs
without copying them; a restore checks each one in the bucket, names one that was deleted, and
succeeds once it is brought back from the bucket's versions, as docs/operations/backup.md says.

The hub and its backup command reach the bucket through the storage settings (endpoint,
region, keys), as a deployment names them."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import start_hub
from tests.server.backup.conftest import JSON, fresh_url, hub_cli
from tests.support.governance import wheel
from tests.support.parts import missing
from tests.support.postgres import free_port
from tests.support.upload import upload

BUCKET = "hub-backups"
KEYS = {"AWS_ACCESS_KEY_ID": "backup-test", "AWS_SECRET_ACCESS_KEY": "backup-test-secret"}


@pytest.fixture(scope="module")
def bucket(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    """A versioned bucket on a moto S3 server: a boto3 client of it, and its endpoint."""
    binary = Path(sys.executable).parent / "moto_server"
    if not binary.exists():
        missing(
            "moto's S3 server (moto_server)", "`make test` syncs it from uv.lock (moto[server])"
        )
    import boto3

    port = free_port()
    log = (tmp_path_factory.mktemp("moto") / "log").open("w")
    proc = subprocess.Popen([str(binary), "-p", str(port)], stdout=log, stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(endpoint)
            break
        except httpx.TransportError:
            assert proc.poll() is None and time.monotonic() < deadline, "moto did not start"
            time.sleep(0.1)
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **_boto(KEYS))
    client.create_bucket(Bucket=BUCKET)
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    yield client, endpoint
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


def _boto(keys: dict[str, str]) -> dict[str, str]:
    return {
        "aws_access_key_id": keys["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": keys["AWS_SECRET_ACCESS_KEY"],
    }


def test_an_s3_hub_backs_up_its_manifest_and_restores_from_the_bucket_versions(
    bucket: tuple[Any, str],
    request: pytest.FixtureRequest,
    tmp_path: Path,
    example_dists: dict[str, Path],
) -> None:
    client, endpoint = bucket
    storage = f"s3://{BUCKET}/hub"
    settings = {
        "storage_url": storage,
        "storage_endpoint": endpoint,
        "storage_region": "us-east-1",
        "storage_access_key_id": KEYS["AWS_ACCESS_KEY_ID"],
        "storage_secret_access_key": KEYS["AWS_SECRET_ACCESS_KEY"],
    }
    env: dict[str, str | None] = {f"PYSETL_HUB_{k.upper()}": v for k, v in settings.items()}
    live = start_hub(tmp_path / "hub", fresh_url(request, tmp_path, "sqlite"), **settings)
    try:
        token = live.user_with_token("alice")
        with httpx.Client(base_url=live.url, timeout=30) as http:
            for version in ("1.0.0", "2.0.0"):
                path = wheel(example_dists["csv-dedupe:wheel"], tmp_path / "w", "s3-tool", version)
                assert upload(http, token, path).status_code == 200
        ran = hub_cli(live, "backup", str(tmp_path / "b"), env=env)
    finally:
        live.stop()
    assert ran.returncode == 0, ran.stderr
    assert "4 blobs" in ran.stderr and "listed (not copied)" in ran.stderr
    header = json.loads((tmp_path / "b" / "backup.json").read_text())
    assert header["blobs_copied"] is False and not (tmp_path / "b" / "blobs").exists()
    blobs = [json.loads(x) for x in (tmp_path / "b" / "blobs.jsonl").read_text().splitlines()]

    # A blob deleted from the bucket (a delete marker on a versioned bucket) is named.
    victim = f"hub/{blobs[0]['key']}"
    client.delete_object(Bucket=BUCKET, Key=victim)
    first = (tmp_path / "r1" / "data", fresh_url(request, tmp_path, "sqlite"))
    ran = hub_cli(first, "restore", str(tmp_path / "b"), env=env)
    assert ran.returncode == 1 and f"{blobs[0]['key']} (" in ran.stderr, ran.stderr
    assert "missing from the store" in ran.stderr

    # Brought back from its versions (the delete marker removed): the restore reconciles.
    versions = client.list_object_versions(Bucket=BUCKET, Prefix=victim)
    for marker in versions["DeleteMarkers"]:
        client.delete_object(Bucket=BUCKET, Key=victim, VersionId=marker["VersionId"])
    second = (tmp_path / "r2" / "data", fresh_url(request, tmp_path, "sqlite"))
    ran = hub_cli(second, "restore", str(tmp_path / "b"), env=env)
    assert ran.returncode == 0, ran.stderr
    restored = start_hub(tmp_path / "r2", second[1], **settings)
    try:
        with httpx.Client(base_url=restored.url, timeout=30) as http:
            files = http.get("/simple/s3-tool/", headers=JSON).json()["files"]
            assert len(files) == 2
            for f in files:
                body = http.get(f["url"]).content
                assert hashlib.sha256(body).hexdigest() == f["hashes"]["sha256"]
    finally:
        restored.stop()
