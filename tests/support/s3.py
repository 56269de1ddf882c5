"""A throwaway S3 endpoint: moto's server mode (`moto_server`, locked in the dev dependencies) as
a subprocess on a free loopback port. It speaks the S3 protocol over a real connection, so the
hub's obstore client signs, sends and parses exactly what it would against AWS or MinIO.

moto keeps its state in memory: `halt()` (an outage) loses every bucket; `resume()` starts it
again on the same port with the bucket re-created, empty.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import obstore
from obstore.store import S3Store

from tests.support.parts import missing
from tests.support.postgres import free_port
from tests.support.procs import stop_group

# moto accepts any credentials; these only have to be well-formed for the SigV4 signer.
ACCESS_KEY_ID = "pysetl-hub-test"
SECRET_ACCESS_KEY = "pysetl-hub-test-secret"
REGION = "us-east-1"


def find_moto() -> Path | None:
    """`moto_server` beside this interpreter (the venv); PYSETL_HUB_TEST_MOTO_SERVER overrides
    (a path that is not there: "not installed")."""
    override = os.environ.get("PYSETL_HUB_TEST_MOTO_SERVER")
    if override:
        return Path(override) if os.access(override, os.X_OK) else None
    beside = Path(sys.executable).parent / "moto_server"
    if beside.exists():
        return beside
    found = shutil.which("moto_server")
    return Path(found) if found else None


@dataclass
class S3Server:
    binary: Path
    port: int
    root: Path
    bucket: str = "pysetl-hub"
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def storage_url(self, prefix: str = "") -> str:
        return f"s3://{self.bucket}/{prefix}".rstrip("/")

    def env(self, prefix: str = "") -> dict[str, str]:
        """The hub's settings that point it at this endpoint."""
        return {
            "PYSETL_HUB_STORAGE_URL": self.storage_url(prefix),
            "PYSETL_HUB_STORAGE_ENDPOINT": self.endpoint,
            "PYSETL_HUB_STORAGE_REGION": REGION,
            "PYSETL_HUB_STORAGE_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "PYSETL_HUB_STORAGE_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        }

    def has(self, key: str) -> bool:
        try:
            obstore.head(self.client(), key)
        except FileNotFoundError:
            return False
        return True

    def client(self) -> S3Store:
        """An obstore client of the bucket, as a third party (not the hub) sees it."""
        return S3Store(
            self.bucket,
            endpoint=self.endpoint,
            region=REGION,
            access_key_id=ACCESS_KEY_ID,
            secret_access_key=SECRET_ACCESS_KEY,
            client_options={"allow_http": True},
        )

    def keys(self, prefix: str = "") -> list[str]:
        """Every key under `prefix` (ListObjectsV2)."""
        found: list[str] = []
        for batch in obstore.list(self.client(), prefix or None):
            found.extend(str(meta["path"]) for meta in batch)
        return found

    def read(self, key: str) -> bytes:
        return bytes(obstore.get(self.client(), key).bytes())

    def _launch(self) -> None:
        log = (self.root / "log").open("ab")
        self.proc = subprocess.Popen(
            [str(self.binary), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped whole, never orphaned
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.endpoint}/moto-api/", timeout=2).status_code < 500:
                    break
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"moto_server did not start:\n{(self.root / 'log').read_text()}")
            time.sleep(0.05)
        created = httpx.put(f"{self.endpoint}/{self.bucket}", timeout=10)
        assert created.status_code == 200, created.text

    def halt(self) -> None:
        """Stop the endpoint (an outage): connections are refused until `resume`."""
        stop_group(self.proc)

    def resume(self) -> None:
        self._launch()

    def stop(self) -> None:
        self.halt()
        shutil.rmtree(self.root, ignore_errors=True)


def start() -> S3Server:
    binary = find_moto()
    if binary is None:
        raise FileNotFoundError("moto_server is not installed")
    root = Path(tempfile.mkdtemp(prefix="pysetl-hub-s3-"))
    server = S3Server(binary, free_port(), root)
    server._launch()
    return server


def start_or_missing() -> S3Server:
    """`start()`, or the missing-part answer: a skip naming the fix, a failure under CI=true."""
    try:
        return start()
    except FileNotFoundError:
        missing("moto's S3 server (moto_server)", "`make test` syncs it into .venv (moto[server])")
