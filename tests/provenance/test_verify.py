"""PEP 740 verification through sigstore's real Verifier, from a trusted_root.json file.

The private instance (tests/support/sigstore_instance.py) makes the attestations; nothing
here patches verification. Each negative case breaks one fact and must fail its own check.
Real-world vectors (tests/vectors/sigstore, copied from ../shared/vectors) prove the same
code accepts signatures made by others against Sigstore production, offline.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from pysetl_hub_provenance import (
    PRODUCTION_TRUST_ROOT,
    AttestationRejected,
    TrustRootError,
    parse_publisher,
    verify_attestation,
)
from tests.support import sigstore_instance as sig
from tests.support.sigstore_instance import Signing, SigstoreInstance, but
from tests.support.vectors import REAL, VECTORS

PUBLISHER = parse_publisher("github:acme/csv-dedupe/release.yml")
HONEST = Signing(sig.github("acme/csv-dedupe", "release.yml"))

WHEEL = "csv_dedupe-1.0.0-py3-none-any.whl"
DATA = b"pretend this is a wheel"
SHA = hashlib.sha256(DATA).hexdigest()


def check(sigstore: SigstoreInstance, signing: Signing, **kw: object) -> str:
    """The failed check's name, or "ok"."""
    attestation = sigstore.attest_bytes(WHEEL, DATA, signing)
    args: dict[str, object] = {
        "filename": WHEEL,
        "sha256": SHA,
        "publishers": [PUBLISHER],
        "trust_root": sigstore.trusted_root,
    }
    args.update(kw)
    try:
        verify_attestation(attestation, **args)  # type: ignore[arg-type]
    except AttestationRejected as exc:
        return exc.check if exc.filename == str(args["filename"]) and exc.detail else "unnamed"
    return "ok"


def test_an_honest_attestation_verifies(sigstore: SigstoreInstance) -> None:
    attestation = sigstore.attest_bytes(WHEEL, DATA, HONEST)
    verified = verify_attestation(
        attestation,
        filename=WHEEL,
        sha256=SHA,
        publishers=[parse_publisher("github:other/repo/x.yml"), PUBLISHER],
        trust_root=sigstore.trusted_root,
    )
    assert verified.publisher == PUBLISHER
    assert verified.predicate_type == sig.PUBLISH_V1


@pytest.mark.parametrize(
    ("case", "signing", "failed"),
    [
        *sig.broken(HONEST),
        ("tampered file", but(HONEST, subject_digest="ab" * 32), "subject-digest"),
        ("two subjects", but(HONEST, extra_subjects=1), "subject-count"),
        (
            "unknown predicate",
            but(HONEST, predicate_type="https://example.test/v9"),
            "predicate-type",
        ),
        ("bad inclusion promise", but(HONEST, bad_set=True), "inclusion-promise"),
    ],
)
def test_each_broken_fact_fails_its_own_check(
    sigstore: SigstoreInstance, case: str, signing: Signing, failed: str
) -> None:
    assert check(sigstore, signing) == failed, case


def test_the_file_bytes_are_what_is_checked(sigstore: SigstoreInstance) -> None:
    assert check(sigstore, HONEST, sha256=hashlib.sha256(DATA + b"!").hexdigest()) == (
        "subject-digest"
    )


def test_equivalent_filenames_are_accepted(sigstore: SigstoreInstance) -> None:
    """Normalized name, and the same tag set in another order, name the same wheel."""
    wheel = "Demo.Pkg-1.0-py2.py3-none-any.whl"
    attestation = sigstore.attest_bytes(
        wheel, DATA, but(HONEST, subject_name="demo_pkg-1.0-py3.py2-none-any.whl")
    )
    verify_attestation(
        attestation,
        filename=wheel,
        sha256=SHA,
        publishers=[PUBLISHER],
        trust_root=sigstore.trusted_root,
    )


def test_gitlab_and_plain_sigstore_identities(sigstore: SigstoreInstance) -> None:
    gitlab = parse_publisher("gitlab:acme/dedupe//.gitlab-ci.yml")
    email = parse_publisher("sigstore:alice@example.test", issuer="https://accounts.example.test")
    assert check(sigstore, Signing(sig.gitlab("acme/dedupe")), publishers=[gitlab]) == "ok"
    assert check(sigstore, Signing(sig.gitlab("acme/other")), publishers=[gitlab]) == "publisher"
    assert check(sigstore, Signing(sig.email("alice@example.test")), publishers=[email]) == "ok"
    bob = sig.email("bob@example.test")
    assert check(sigstore, Signing(bob), publishers=[email]) == "publisher"
    other_issuer = sig.email("alice@example.test", issuer="https://elsewhere.test")
    assert check(sigstore, Signing(other_issuer), publishers=[email]) == "publisher"


def test_garbage_is_a_format_error(sigstore: SigstoreInstance) -> None:
    with pytest.raises(AttestationRejected) as info:
        verify_attestation(
            {"version": 1, "envelope": {}},
            filename=WHEEL,
            sha256=SHA,
            publishers=[PUBLISHER],
            trust_root=sigstore.trusted_root,
        )
    assert info.value.check == "format"


def test_a_missing_trust_root_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(TrustRootError, match="cannot read"):
        verify_attestation(
            {}, filename=WHEEL, sha256=SHA, publishers=[PUBLISHER], trust_root=tmp_path / "no.json"
        )


# -- real-world vectors ---------------------------------------------------------------------


@pytest.mark.parametrize(("artifact", "attestation", "publisher"), REAL)
def test_real_vectors_verify_offline_against_production(
    artifact: str, attestation: str, publisher: str, sigstore: SigstoreInstance
) -> None:
    data = (VECTORS / artifact).read_bytes()
    raw = json.loads((VECTORS / attestation).read_text())
    sha = hashlib.sha256(data).hexdigest()

    def run(p: str = publisher, digest: str = sha, root: Path = PRODUCTION_TRUST_ROOT) -> str:
        try:
            verify_attestation(
                raw, filename=artifact, sha256=digest, publishers=[parse_publisher(p)],
                trust_root=root,
            )  # fmt: skip
        except AttestationRejected as exc:
            return exc.check
        return "ok"

    assert run() == "ok"
    assert run(p="github:trailofbits/sigstore-python/release.yml") == "publisher"
    assert run(p=publisher.replace("release.yml", "ci.yml")) == "publisher"
    changed = bytearray(data)
    changed[len(changed) // 2] ^= 0x01
    assert run(digest=hashlib.sha256(bytes(changed)).hexdigest()) == "subject-digest"
    # Another trust root (this suite's private one) knows none of production's keys.
    assert run(root=sigstore.trusted_root) == "certificate-chain"


def test_pinned_root_is_the_vectors_production_root() -> None:
    assert (
        PRODUCTION_TRUST_ROOT.read_bytes()
        == (VECTORS / "production_trusted_root.json").read_bytes()
    )
