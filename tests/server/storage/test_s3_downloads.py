"""A hub on S3 (moto's server over loopback): uploads land in the bucket, and with presigning on
a download is a 307 to a presigned URL of the store, counted as a download like a 200."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from pysetl_hub_server.db import models
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.storage.blobs import blob_key
from tests.conftest import start_hub
from tests.support import s3
from tests.support.upload import upload


@pytest.fixture(scope="module")
def moto() -> Iterator[s3.S3Server]:
    server = s3.start_or_missing()
    yield server
    server.stop()


def test_presigned_download_is_a_counted_redirect_to_the_store(
    tmp_path: Path, moto: s3.S3Server, example_dists: dict[str, Path]
) -> None:
    wheel = example_dists["csv-dedupe:wheel"]
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    live = start_hub(
        tmp_path,
        f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}",
        storage_url=moto.storage_url("live"),
        storage_endpoint=moto.endpoint,
        storage_region=s3.REGION,
        storage_access_key_id=s3.ACCESS_KEY_ID,
        storage_secret_access_key=s3.SECRET_ACCESS_KEY,
        storage_presign_seconds=30,
        download_flush_interval=0.2,
    )
    try:
        token = live.user_with_token("alice")
        with httpx.Client(base_url=live.url, timeout=30) as http:
            assert upload(http, token, wheel).status_code == 200
            assert moto.read(f"live/{blob_key(digest)}") == wheel.read_bytes()
            url = f"/files/{digest}/{wheel.name}"
            answer = http.get(url)
            assert answer.status_code == 307
            assert answer.headers["cache-control"] == "private, no-store"
            location = answer.headers["location"]
            assert location.startswith(f"{moto.endpoint}/{moto.bucket}/live/{blob_key(digest)}?")
            assert "X-Amz-Expires=30" in location
            assert hashlib.sha256(httpx.get(location).content).hexdigest() == digest
            assert http.head(url).status_code == 200  # HEAD answers itself: not a download

        async def total(hub: Hub) -> int:
            async with hub.sessions() as session:
                return int(await session.scalar(select(func.sum(models.DownloadCount.count))) or 0)

        deadline = time.monotonic() + 10
        while live.run(total) < 1:
            assert time.monotonic() < deadline, "the redirect was not counted as a download"
            time.sleep(0.05)
        time.sleep(0.5)
        assert live.run(total) == 1
    finally:
        live.stop()
