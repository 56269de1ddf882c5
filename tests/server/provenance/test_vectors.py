"""The server's upload check on real-world attestations (Sigstore production, offline)."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from pysetl_hub_provenance import PRODUCTION_TRUST_ROOT, parse_publisher
from pysetl_hub_server.errors import InvalidUpload
from pysetl_hub_server.provenance.uploads import Policy, check_upload
from tests.support.vectors import PA, PA_PUBLISHER, VECTORS

ARTIFACT = PA


def run(publisher: str, digest: str | None = None) -> str:
    data = (VECTORS / ARTIFACT).read_bytes()
    raw = (VECTORS / f"{ARTIFACT}.publish.attestation").read_text()
    policy = Policy("pypi-attestations", [parse_publisher(publisher)], require_attestations=True)
    try:
        signed = asyncio.run(
            check_upload(
                f"[{raw}]",
                filename=ARTIFACT,
                sha256=digest or hashlib.sha256(data).hexdigest(),
                policy=policy,
                trust_root=PRODUCTION_TRUST_ROOT,
            )
        )
    except InvalidUpload as exc:
        return exc.code
    assert signed is not None
    assert signed.signer["repository"] == "trailofbits/pypi-attestations"
    return "ok"


@pytest.mark.parametrize(
    ("publisher", "expected"),
    [
        (PA_PUBLISHER, "ok"),
        ("github:trailofbits/pypi-attestations/other.yml", "attestation.publisher"),
        ("github:mallory/pypi-attestations/release.yml", "attestation.publisher"),
    ],
)
def test_server_check_on_a_real_attestation(publisher: str, expected: str) -> None:
    assert run(publisher) == expected


def test_server_check_rejects_a_changed_byte() -> None:
    data = bytearray((VECTORS / ARTIFACT).read_bytes())
    data[100] ^= 0xFF
    digest = hashlib.sha256(bytes(data)).hexdigest()
    assert run(PA_PUBLISHER, digest) == ("attestation.subject-digest")
