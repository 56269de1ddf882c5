"""Attestations at upload: verified with the real Verifier against the hub's trust root.

One hub (SQLite) serves the whole negative matrix, but every case uploads its own component
(a fresh name with the trusted publisher registered): a case wrongly accepted spoils only
itself, never the cases after it. Each must get a 400 naming the failed check and leave
nothing of its file behind. The signed happy path then runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from pysetl_hub_server.db.models import AuditEvent, File, FilenameRegistry
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.storage.blobs import blob_key
from tests.conftest import start_hub
from tests.support import sigstore_instance as sig
from tests.support.dists import repack
from tests.support.live import LiveServer
from tests.support.sigstore_instance import Signing, SigstoreInstance, but
from tests.support.upload import problem, upload

PUBLISHER = {"kind": "github", "repository": "acme/csv-dedupe", "workflow": "release.yml"}
HONEST = Signing(sig.github("acme/csv-dedupe", "release.yml"))


def add_publisher(
    http: httpx.Client, token: str, name: str, body: dict[str, Any]
) -> httpx.Response:
    return http.post(
        f"/api/v1/components/{name}/publishers",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
    )


def signed_upload(
    http: httpx.Client, token: str, path: Path, attestations: list[dict[str, Any]] | None,
    content: bytes | None = None,
) -> httpx.Response:  # fmt: skip
    fields = {"attestations": json.dumps(attestations)} if attestations is not None else {}
    return upload(http, token, path, content=content, **fields)


def stored(live: LiveServer, filename: str, sha256: str) -> tuple[int, int, int, bool]:
    async def go(hub: Hub) -> tuple[int, int, int]:
        async with hub.sessions() as s:
            return (
                await s.scalar(select(func.count(File.id)).where(File.filename == filename)) or 0,
                await s.scalar(select(func.count()).where(FilenameRegistry.filename == filename))
                or 0,
                await s.scalar(
                    select(func.count(AuditEvent.id)).where(AuditEvent.action == "file.upload")
                )
                or 0,
            )

    files, names, events = live.run(go)
    blob = (live.settings.data_dir / "blobs" / blob_key(sha256)).exists()
    return files, names, events, blob


@pytest.fixture(scope="module")
def hub(
    tmp_path_factory: pytest.TempPathFactory, sigstore: SigstoreInstance
) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("provenance-hub")
    server = start_hub(
        tmp, f"sqlite+aiosqlite:///{tmp / 'hub.sqlite3'}", sigstore_trust_root=sigstore.trusted_root
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def alice(hub: LiveServer) -> str:
    return hub.user_with_token("alice")


def fresh_wheel(example_dists: dict[str, Path], tmp_path: Path) -> Path:
    """The example wheel under a name no other test uses."""
    name = f"signed-{uuid.uuid4().hex[:12]}"
    return repack(example_dists["csv-dedupe:wheel"], tmp_path / name, name=name)


@pytest.fixture
def own(hub: LiveServer, alice: str, example_dists: dict[str, Path], tmp_path: Path) -> Path:
    """This test's own component, its trusted publisher registered, and its wheel."""
    wheel = fresh_wheel(example_dists, tmp_path)
    name = wheel.name.split("-")[0].replace("_", "-")
    with httpx.Client(base_url=hub.url) as http:
        assert add_publisher(http, alice, name, PUBLISHER).status_code == 201
    return wheel


@pytest.fixture
def api(hub: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=hub.url, timeout=30) as client:
        yield client


@pytest.mark.parametrize(
    ("case", "signing", "check"),
    [
        *sig.broken(HONEST),
        (
            "unknown predicate",
            but(HONEST, predicate_type="https://example.test/v9"),
            "predicate-type",
        ),
    ],
)
def test_a_bad_attestation_rejects_the_whole_upload(
    hub: LiveServer,
    alice: str,
    api: httpx.Client,
    sigstore: SigstoreInstance,
    own: Path,
    case: str,
    signing: Signing,
    check: str,
) -> None:
    wheel = own
    r = signed_upload(api, alice, wheel, [sigstore.attest(wheel, signing)])
    assert r.status_code == 400, (case, r.text)
    body = problem(r)
    assert body["code"] == f"attestation.{check}", (case, body)
    assert check in body["detail"] and wheel.name in body["detail"]
    assert stored(hub, wheel.name, body_sha(wheel)) == (0, 0, 0, False), case


def body_sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_tampered_file_is_refused(
    hub: LiveServer, alice: str, api: httpx.Client, sigstore: SigstoreInstance,
    own: Path, tmp_path: Path,
) -> None:  # fmt: skip
    wheel = own
    attestation = sigstore.attest(wheel, HONEST)
    changed = repack(
        wheel, tmp_path / "t", mutate=lambda m: m.update({"csv_dedupe/extra.py": b"x=1\n"})
    )
    assert changed.name == wheel.name and changed.read_bytes() != wheel.read_bytes()
    r = signed_upload(api, alice, changed, [attestation])
    assert problem(r)["code"] == "attestation.subject-digest"
    assert stored(hub, wheel.name, body_sha(changed)) == (0, 0, 0, False)


def test_malformed_attestations_are_a_format_error(
    hub: LiveServer, alice: str, api: httpx.Client, own: Path
) -> None:
    wheel = own
    for raw in ("not json", "[]", '[{"version": 1}]', '"text"'):
        r = upload(api, alice, wheel, attestations=raw)
        assert problem(r)["code"] == "attestation.format", raw
    assert stored(hub, wheel.name, body_sha(wheel)) == (0, 0, 0, False)


def test_signed_upload_to_a_component_without_publishers_is_refused(
    hub: LiveServer, alice: str, api: httpx.Client, sigstore: SigstoreInstance,
    example_dists: dict[str, Path], tmp_path: Path,
) -> None:  # fmt: skip
    wheel = fresh_wheel(example_dists, tmp_path)  # no publisher registered for this name
    r = signed_upload(api, alice, wheel, [sigstore.attest(wheel, HONEST)])
    body = problem(r)
    assert body["code"] == "attestation.publisher"
    assert "pysetl-hub publishers add" in body["detail"]
    assert stored(hub, wheel.name, body_sha(wheel))[:2] == (0, 0)


def test_require_attestations_refuses_unsigned_uploads(
    hub: LiveServer, alice: str, api: httpx.Client, own: Path
) -> None:
    name = own.name.split("-")[0].replace("_", "-")
    auth = {"Authorization": f"Bearer {alice}"}
    r = api.patch(f"/api/v1/components/{name}", json={"require_attestations": True}, headers=auth)
    assert r.status_code == 200 and r.json()["require_attestations"] is True
    body = problem(upload(api, alice, own))
    assert body["code"] == "attestation.required"
    assert stored(hub, own.name, body_sha(own))[:2] == (0, 0)


def test_the_honest_attestation_is_accepted(
    hub: LiveServer, alice: str, api: httpx.Client, sigstore: SigstoreInstance, own: Path
) -> None:
    """Control for the matrix: the same fresh component, signed honestly, is accepted."""
    wheel = own
    r = signed_upload(api, alice, wheel, [sigstore.attest(wheel, HONEST)])
    assert r.status_code == 200, r.text
    assert stored(hub, wheel.name, body_sha(wheel))[:2] == (1, 1)
