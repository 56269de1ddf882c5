"""A read-only mirror following a live origin over loopback.

The origin is a live hub (in-process, on a fixed port so it can be restarted where the mirror
looks for it); the mirror is the real `pysetl-hub-server mirror` command in a subprocess with
its own data directory and database. One pair serves the module: the tests run in order and
each works on its own component or release. Nothing is mocked.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select

from pysetl_hub_schemas.feed import FeedKey
from pysetl_hub_server.db.migrate import upgrade
from pysetl_hub_server.db.models import Component, File, MirrorFailure, MirrorState
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.mirror.follower import Follower, KeyRefused, pin, pinned_key
from pysetl_hub_server.mirror.origin import Origin, OriginError
from pysetl_hub_server.runtime import open_hub
from pysetl_hub_server.settings import Settings
from pysetl_hub_server.storage.blobs import blob_key
from tests.conftest import make_settings
from tests.server.provenance.test_uploads import HONEST, PUBLISHER, add_publisher, signed_upload
from tests.support.clients import BIN, pip
from tests.support.dists import repack
from tests.support.live import LiveServer, start_live
from tests.support.postgres import free_port
from tests.support.procs import stop_group
from tests.support.sigstore_instance import SigstoreInstance
from tests.support.upload import problem, upload

JSON = "application/vnd.pypi.simple.v1+json"
T = TypeVar("T")


@dataclass
class Pair:
    origin: LiveServer
    port: int
    token: str
    mirror: httpx.Client
    proc: subprocess.Popen[bytes]
    log: Path
    http: httpx.Client  # the origin

    def restart_origin(self) -> None:
        self.origin = start_live(self.origin.settings, port=self.port)


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 20) -> T:
    """Poll until `probe` returns something; fail naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None and value is not False:
            return value
        assert time.monotonic() < deadline, f"the mirror never got there: {what}"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory, sigstore: SigstoreInstance) -> Iterator[Pair]:
    root = tmp_path_factory.mktemp("mirror")
    settings = make_settings(
        root / "origin",
        f"sqlite+aiosqlite:///{root / 'origin.sqlite3'}",
        sigstore_trust_root=sigstore.trusted_root,
    )
    settings.data_dir.mkdir(parents=True)
    upgrade(settings.effective_database_url)
    port = free_port()
    origin = start_live(settings, port=port)
    token = origin.user_with_token("alice")
    mirror_port = free_port()
    log = root / "mirror.log"
    env = {
        **os.environ,
        "PYSETL_HUB_SIGSTORE_TRUST_ROOT": str(sigstore.trusted_root),
        "PYSETL_HUB_SERIAL_POLL_INTERVAL": "0.2",
    }
    command = [
        str(BIN / "pysetl-hub-server"), "--data-dir", str(root / "mirror"),
        "mirror", "--from", origin.url, "--port", str(mirror_port), "--interval", "0.2",
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    client = httpx.Client(base_url=f"http://127.0.0.1:{mirror_port}", timeout=30)

    def ready() -> bool:
        assert proc.poll() is None, log.read_text()
        try:
            return client.get("/readyz").status_code == 200
        except httpx.TransportError:
            return False

    wait_for("the mirror to start", ready, timeout=60)
    http = httpx.Client(base_url=origin.url, timeout=30)
    the_pair = Pair(origin, port, token, client, proc, log, http)
    try:
        yield the_pair
    finally:
        stop_group(proc)
        client.close()
        http.close()
        the_pair.origin.stop()


def simple(pair: Pair, name: str) -> dict[str, Any] | None:
    r = pair.mirror.get(f"/simple/{name}/", headers={"Accept": JSON})
    return r.json() if r.status_code == 200 else None  # type: ignore[no-any-return]


def served_file(pair: Pair, name: str, filename: str) -> dict[str, Any] | None:
    page = simple(pair, name)
    files = page["files"] if page else []
    return next((f for f in files if f["filename"] == filename), None)


def status(pair: Pair) -> dict[str, Any]:
    r = pair.mirror.get("/api/v1/mirror")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_a_signed_wheel_is_copied_verified_and_served(
    pair: Pair, sigstore: SigstoreInstance, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    assert add_publisher(pair.http, pair.token, "csv-dedupe", PUBLISHER).status_code == 201
    wheel = example_dists["csv-dedupe:wheel"]
    attestation = sigstore.attest(wheel, HONEST)
    assert signed_upload(pair.http, pair.token, wheel, [attestation]).status_code == 200

    entry = wait_for("the wheel", lambda: served_file(pair, "csv-dedupe", wheel.name))
    data = wheel.read_bytes()
    assert entry["hashes"] == {"sha256": hashlib.sha256(data).hexdigest()}
    r = pair.mirror.get(entry["url"])
    assert r.status_code == 200 and r.content == data
    # Its provenance, verified again by the mirror against the copied trusted publisher.
    assert entry["provenance"] is not None
    provenance = pair.mirror.get(entry["provenance"]).json()
    assert provenance["attestation_bundles"][0]["attestations"] == [attestation]
    publishers = pair.mirror.get("/api/v1/components/csv-dedupe/publishers").json()
    assert [p["spec"] for p in publishers["publishers"]] == ["github:acme/csv-dedupe/release.yml"]
    component = pair.mirror.get("/api/v1/components/csv-dedupe").json()
    assert component["verified"] is True and component["latest"]["version"] == "1.0.0"

    state = status(pair)
    assert state["origin"] == pair.origin.url and state["failures"] == []
    key = pair.http.get("/.well-known/pysetl-hub/feed-key").json()
    assert state["key_id"] == key["key_id"] and state["cursor"] > 0

    # pip resolves and downloads from the mirror's index alone.
    result = pip(
        "download", "--no-deps", "--dest", str(tmp_path), "--index-url",
        f"{str(pair.mirror.base_url).rstrip('/')}/simple/", "csv-dedupe==1.0.0",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / wheel.name).read_bytes() == data


def test_writes_to_the_mirror_are_refused(pair: Pair, example_dists: dict[str, Path]) -> None:
    wheel = example_dists["daily-sales-pipeline:wheel"]
    refused = upload(pair.mirror, pair.token, wheel)
    body = problem(refused)
    assert refused.status_code == 503 and body["code"] == "hub.read_only"
    assert f"read-only mirror of {pair.origin.url}" in body["detail"]
    account = pair.mirror.post("/api/v1/components/x/publishers", json=PUBLISHER)
    assert problem(account)["code"] == "hub.read_only"
    assert simple(pair, "daily-sales-pipeline") is None


def test_a_yank_on_the_origin_reaches_the_mirror(
    pair: Pair, example_dists: dict[str, Path]
) -> None:
    r = pair.http.post(
        "/api/v1/components/csv-dedupe/1.0.0/yank",
        json={"reason": "broken"},
        headers={"Authorization": f"Bearer {pair.token}"},
    )
    assert r.status_code == 200, r.text
    wheel = example_dists["csv-dedupe:wheel"]

    def yanked() -> Any:
        entry = served_file(pair, "csv-dedupe", wheel.name)
        return entry["yanked"] if entry else None

    assert wait_for("the yank", yanked) == "broken"


def test_a_tampered_file_is_refused_then_copied_once_repaired(
    pair: Pair, example_dists: dict[str, Path]
) -> None:
    wheel = example_dists["daily-sales-pipeline:wheel"]
    data = wheel.read_bytes()
    blob = pair.origin.settings.data_dir / "blobs" / blob_key(hashlib.sha256(data).hexdigest())
    # Hold the mirror still, so it reads the file only after the blob was overwritten.
    os.killpg(pair.proc.pid, signal.SIGSTOP)
    try:
        assert upload(pair.http, pair.token, wheel).status_code == 200
        assert blob.read_bytes() == data
        blob.write_bytes(data[:-10] + b"\x00" * 10)
    finally:
        os.killpg(pair.proc.pid, signal.SIGCONT)

    def refused() -> dict[str, Any] | None:
        return next((f for f in status(pair)["failures"] if f["filename"] == wheel.name), None)

    failure = wait_for("the refusal", refused)
    assert failure["code"] == "mirror.sha256_mismatch"
    assert hashlib.sha256(data).hexdigest() in failure["reason"]
    assert served_file(pair, "daily-sales-pipeline", wheel.name) is None
    assert "mirror.sha256_mismatch" in pair.log.read_text() or wheel.name in pair.log.read_text()

    # Retried later (with backoff), refused each time while the bytes stay wrong.
    assert wait_for("a retry", lambda: (refused() or {}).get("attempts", 0) >= 2)
    assert served_file(pair, "daily-sales-pipeline", wheel.name) is None
    blob.write_bytes(data)  # repaired; the origin serves it again after its restart (below)


def scratch_mirror(tmp_path: Path, **overrides: object) -> Settings:
    """A second, in-process mirror's settings (its own data directory and database)."""
    settings = make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'm.sqlite3'}", **overrides)
    settings.data_dir.mkdir(parents=True)
    upgrade(settings.effective_database_url)
    return settings


def other_key() -> str:
    raw = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


async def components_in(hub: Hub) -> list[str]:
    async with hub.sessions() as session:
        return list(await session.scalars(select(Component.name)))


def test_a_page_that_does_not_verify_is_refused_and_a_changed_key_too(
    pair: Pair, tmp_path: Path, sigstore: SigstoreInstance
) -> None:
    settings = scratch_mirror(tmp_path, sigstore_trust_root=sigstore.trusted_root)

    async def go() -> None:
        origin = Origin.open(pair.origin.url)
        async with open_hub(settings) as hub:
            real = await origin.feed_key()
            # The origin's key id, another key's bytes: every page's signature fails.
            forged = FeedKey(
                key_id=real.key_id, algorithm="ed25519", public_key=other_key(), public_key_pem=""
            )
            with pytest.raises(OriginError) as refused:
                await Follower(hub, origin, forged, 0.1).step()
            assert refused.value.code == "mirror.bad_signature"
            assert await components_in(hub) == []  # nothing of the page applied

            # Pinned at the first start; a different key later is refused unless accepted.
            state = await pin(hub, origin, None, accept_change=False)
            assert state.key_id == real.key_id and state.cursor == 0
            changed = FeedKey(
                key_id="0" * 32, algorithm="ed25519", public_key=other_key(), public_key_pem=""
            )
            with pytest.raises(KeyRefused, match="--accept-key-change"):
                await pin(hub, origin, changed, accept_change=False)
            async with hub.sessions() as session:
                kept = await session.get(MirrorState, 1)
                assert kept is not None and kept.public_key == real.public_key
            # A mirror pinned to the real key copies the same pages.
            assert await Follower(hub, origin, pinned_key(state), 0.1).step() > 0
            assert "csv-dedupe" in await components_in(hub)
        await origin.close()

    asyncio.run(go())


def test_a_file_whose_attestation_does_not_verify_is_not_served(
    pair: Pair, tmp_path: Path, example_dists: dict[str, Path]
) -> None:
    """A mirror that trusts another Sigstore root (the public one) cannot verify the origin's
    test-root attestation: the signed wheel is refused like an upload would be, and recorded."""
    settings = scratch_mirror(tmp_path)

    async def go() -> tuple[list[str], dict[str, str]]:
        origin = Origin.open(pair.origin.url)
        async with open_hub(settings) as hub:
            state = await pin(hub, origin, None, accept_change=False)
            await Follower(hub, origin, pinned_key(state), 0.1).step()
            async with hub.sessions() as session:
                files = list(await session.scalars(select(File.filename)))
                rows = await session.execute(select(MirrorFailure.filename, MirrorFailure.code))
                failures = dict(rows.all())
        await origin.close()
        return files, failures

    files, failures = asyncio.run(go())
    signed = example_dists["csv-dedupe:wheel"].name
    assert signed not in files
    assert failures[signed].startswith("attestation."), failures
    assert files == []  # (the other wheel is still the tampered one the origin cached)


def test_the_mirror_keeps_serving_while_the_origin_is_away_and_catches_up(
    pair: Pair, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    wheel = example_dists["csv-dedupe:wheel"]
    pair.origin.stop()
    with pytest.raises(httpx.TransportError):
        pair.http.get("/readyz")
    error = wait_for("the outage noticed", lambda: status(pair)["last_error"])
    assert "mirror.origin_unreachable" in error
    entry = served_file(pair, "csv-dedupe", wheel.name)
    assert entry is not None
    assert pair.mirror.get(entry["url"]).content == wheel.read_bytes()

    pair.restart_origin()
    newer = repack(wheel, tmp_path, version="1.0.1")
    assert upload(pair.http, pair.token, newer).status_code == 200
    wait_for("the catch-up", lambda: served_file(pair, "csv-dedupe", newer.name))
    # The file refused while tampered is tried again once the origin is back, and copied.
    repaired = example_dists["daily-sales-pipeline:wheel"]
    entry = wait_for("the retry", lambda: served_file(pair, "daily-sales-pipeline", repaired.name))
    assert pair.mirror.get(entry["url"]).content == repaired.read_bytes()
    assert status(pair)["failures"] == []
    assert wait_for("a clean status", lambda: status(pair)["last_error"] is None)
