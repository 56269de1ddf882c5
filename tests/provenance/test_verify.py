"""PEP 740 verification through sigstore's real Verifier, from a trusted_root.json file.

The private instance (tests/support/sigstore_instance.py) makes the attestations; nothing
here patches verification. Each negative case breaks one fact and must fail its own check.
Real-world vectors (tests/vectors/sigstore, copied from ../shared/vectors) prove the same
code accepts signatures made by others against Sigstore production, offline.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from pysetl_hub_provenance import (
    PRODUCTION_TRUST_ROOT,
    TRUST_ROOT_ENV,
    AttestationRejected,
    TrustRootError,
    parse_publisher,
    verify_attestation,
)
from pysetl_hub_provenance.verify import _check_statement, load_attestation, trust_root_path
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
    assert (verified.filename, verified.sha256) == (WHEEL, SHA)


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
    assert (info.value.check, info.value.filename) == ("format", WHEEL)


def test_an_attestation_that_is_no_sigstore_bundle_is_a_format_error(
    sigstore: SigstoreInstance,
) -> None:
    attestation = sigstore.attest_bytes(WHEEL, DATA, HONEST)
    attestation["verification_material"]["certificate"] = base64.b64encode(b"junk").decode()
    error = rejection(sigstore, attestation)
    assert (error.check, error.filename) == ("format", WHEEL)
    assert error.detail and error.detail != "None"


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


# -- what each rejection says ---------------------------------------------------------------

# The start of each check's explanation: a rejection names the broken fact before sigstore's words.
EXPLAINED = {
    "certificate-chain": "the signing certificate does not chain to a CA of the trust root (",
    "signed-time": "the signature was logged outside the signing certificate's validity (",
    "sct": "the certificate's embedded SCT is not signed by a CT log of the trust root (",
    "checkpoint": "the transparency log checkpoint is not signed by a log of the trust root (",
    "inclusion-promise": "the log's inclusion promise (SET) does not verify (",
    "inclusion-proof": "the Merkle inclusion proof does not lead to the checkpoint's root (",
    "signature": "the envelope's signature does not verify with the certificate's key (",
    "publisher": "signed by ",
}


def rejection(sigstore: SigstoreInstance, attestation: dict[str, Any]) -> AttestationRejected:
    with pytest.raises(AttestationRejected) as info:
        verify_attestation(
            attestation,
            filename=WHEEL,
            sha256=SHA,
            publishers=[PUBLISHER],
            trust_root=sigstore.trusted_root,
        )
    return info.value


@pytest.mark.parametrize(
    ("case", "signing", "failed"),
    [c for c in sig.broken(HONEST) if c[2] in EXPLAINED]
    + [("bad inclusion promise", but(HONEST, bad_set=True), "inclusion-promise")],
)
def test_each_sigstore_failure_is_explained(
    sigstore: SigstoreInstance, case: str, signing: Signing, failed: str
) -> None:
    error = rejection(sigstore, sigstore.attest_bytes(WHEEL, DATA, signing))
    assert error.check == failed, case
    assert error.detail.startswith(EXPLAINED[failed]), error.detail


def _flip_signature(attestation: dict[str, Any]) -> None:
    raw = bytearray(base64.b64decode(attestation["envelope"]["signature"]))
    raw[-1] ^= 0x01
    attestation["envelope"]["signature"] = base64.b64encode(bytes(raw)).decode()


def _shorten_inclusion_proof(attestation: dict[str, Any]) -> None:
    [entry] = attestation["verification_material"]["transparency_entries"]
    entry["inclusionProof"]["hashes"].pop()


@pytest.mark.parametrize(
    ("tamper", "failed"),
    [(_flip_signature, "signature"), (_shorten_inclusion_proof, "inclusion-proof")],
)
def test_a_tampered_envelope_or_log_proof_fails_its_own_check(
    sigstore: SigstoreInstance, tamper: Callable[[dict[str, Any]], None], failed: str
) -> None:
    attestation = sigstore.attest_bytes(WHEEL, DATA, HONEST)
    tamper(attestation)
    error = rejection(sigstore, attestation)
    assert error.check == failed
    assert error.detail.startswith(EXPLAINED[failed]), error.detail


def test_a_publisher_mismatch_names_both_sides(sigstore: SigstoreInstance) -> None:
    attestation = sigstore.attest_bytes(WHEEL, DATA, Signing(sig.github("evil/x", "r.yml")))
    error = rejection(sigstore, attestation)
    assert error.check == "publisher"
    assert error.detail == (
        "signed by https://github.com/evil/x/.github/workflows/r.yml@refs/tags/v1.0.0 (issuer "
        f"{sig.GITHUB_ISSUER}), which is not github:acme/csv-dedupe/release.yml"
    )


def test_no_publisher_verifies_nothing(sigstore: SigstoreInstance) -> None:
    with pytest.raises(AttestationRejected) as info:
        verify_attestation(
            sigstore.attest_bytes(WHEEL, DATA, HONEST),
            filename=WHEEL,
            sha256=SHA,
            publishers=[],
            trust_root=sigstore.trusted_root,
        )
    assert (info.value.check, info.value.detail) == (
        "publisher",
        "no trusted publisher to verify against",
    )


def test_a_log_entry_for_another_statement_fails_the_log_check(
    sigstore: SigstoreInstance,
) -> None:
    """The log's own proofs hold, but the entry it signed is not this envelope's."""
    attestation = sigstore.attest_bytes(WHEEL, DATA, HONEST)
    material = attestation["verification_material"]
    cert = x509.load_der_x509_certificate(base64.b64decode(material["certificate"]))
    signature = base64.b64decode(attestation["envelope"]["signature"])
    other = sigstore._log(b'{"other": 1}', signature, cert, int(time.time()), HONEST)
    material["transparency_entries"] = [other]
    error = rejection(sigstore, attestation)
    assert error.check == "transparency-log"
    assert error.detail.startswith("the transparency log entry does not match the attestation (")


def test_a_trust_root_rewritten_in_place_is_read_again(
    sigstore: SigstoreInstance, tmp_path: Path
) -> None:
    root = tmp_path / "root.json"
    root.write_bytes(sigstore.trusted_root.read_bytes())
    attestation = sigstore.attest_bytes(WHEEL, DATA, HONEST)
    args: dict[str, Any] = {"filename": WHEEL, "sha256": SHA, "publishers": [PUBLISHER]}
    assert verify_attestation(attestation, trust_root=root, **args).publisher == PUBLISHER
    root.write_bytes(PRODUCTION_TRUST_ROOT.read_bytes())
    later = root.stat().st_mtime_ns + 1_000_000_000
    os.utime(root, ns=(later, later))
    with pytest.raises(AttestationRejected) as info:
        verify_attestation(attestation, trust_root=root, **args)
    assert info.value.check == "certificate-chain"


@pytest.mark.parametrize(
    ("filename", "subject"),
    [
        ("Demo.Pkg-1.0.tar.gz", "demo_pkg-1.0.tar.gz"),
        ("demo_pkg-1.0.zip", "Demo-Pkg-1.0.zip"),
    ],
)
def test_equivalent_sdist_names_are_accepted(
    sigstore: SigstoreInstance, filename: str, subject: str
) -> None:
    signing = but(HONEST, subject_name=subject)
    assert check(sigstore, signing, filename=filename) == "ok"


@pytest.mark.parametrize(
    ("filename", "subject"),
    [
        (WHEEL, "csv_dedupe-1.0.0-1-py3-none-any.whl"),  # another build
        (WHEEL, "csv_dedupe-1.0.0.tar.gz"),  # the sdist of the same release
        ("csv_dedupe-1.0.0.tar.gz", "csv_dedupe-1.0.0.tar.bz2"),  # not a dist at all
        ("csv_dedupe-1.0.0.tar.gz", "notes.txt"),
    ],
)
def test_another_distribution_is_not_this_file(
    sigstore: SigstoreInstance, filename: str, subject: str
) -> None:
    assert check(sigstore, but(HONEST, subject_name=subject), filename=filename) == "subject-name"


# -- the trust root -------------------------------------------------------------------------


def test_the_trust_root_is_explicit_then_the_environment_then_production(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(TRUST_ROOT_ENV, raising=False)
    assert trust_root_path() == PRODUCTION_TRUST_ROOT
    monkeypatch.setenv(TRUST_ROOT_ENV, str(tmp_path / "env.json"))
    assert trust_root_path() == tmp_path / "env.json"
    assert trust_root_path(str(tmp_path / "cli.json")) == tmp_path / "cli.json"


def test_a_file_that_is_not_a_trust_root_is_a_configuration_error(tmp_path: Path) -> None:
    root = tmp_path / "root.json"
    root.write_text('{"mediaType": "nonsense"}')
    with pytest.raises(TrustRootError) as info:
        verify_attestation({}, filename=WHEEL, sha256=SHA, publishers=[PUBLISHER], trust_root=root)
    assert str(info.value).startswith(f"{root} is not a Sigstore trusted_root.json: ")
    with pytest.raises(TrustRootError) as info:
        verify_attestation(
            {}, filename=WHEEL, sha256=SHA, publishers=[PUBLISHER], trust_root=tmp_path
        )
    assert str(info.value) == f"cannot read the Sigstore trust root {tmp_path}: Is a directory"
    missing = tmp_path / "no.json"
    with pytest.raises(TrustRootError) as info:
        verify_attestation(
            {}, filename=WHEEL, sha256=SHA, publishers=[PUBLISHER], trust_root=missing
        )
    assert (
        str(info.value)
        == f"cannot read the Sigstore trust root {missing}: No such file or directory"
    )


# -- the attestation object and its statement -----------------------------------------------


def test_an_attestation_loads_from_json_text_or_bytes(sigstore: SigstoreInstance) -> None:
    raw = sigstore.attest_bytes(WHEEL, DATA, HONEST)
    for text in (json.dumps(raw), json.dumps(raw).encode()):
        verified = verify_attestation(
            load_attestation(text, WHEEL),
            filename=WHEEL,
            sha256=SHA,
            publishers=[PUBLISHER],
            trust_root=sigstore.trusted_root,
        )
        assert verified.publisher == PUBLISHER


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        ({"version": 1, "verification_material": {}}, "verification_material.certificate"),
        ('{"version": 1}', "verification_material"),
        (b"[]", "attestation"),
    ],
)
def test_a_malformed_attestation_says_where(raw: Any, where: str) -> None:
    with pytest.raises(AttestationRejected) as info:
        load_attestation(raw, WHEEL)
    assert (info.value.check, info.value.filename) == ("format", WHEEL)
    assert info.value.detail.startswith(f"not a PEP 740 attestation ({where}: ")


def statement(**fields: Any) -> bytes:
    body = {
        "subject": [{"name": WHEEL, "digest": {"sha256": SHA}}],
        "predicateType": sig.PUBLISH_V1,
    }
    return json.dumps(body | fields).encode()


def test_a_statement_that_holds_names_its_predicate() -> None:
    assert _check_statement(statement(), WHEEL, SHA) == sig.PUBLISH_V1
    slsa = "https://slsa.dev/provenance/v1"
    assert _check_statement(statement(predicateType=slsa), WHEEL, SHA) == slsa


@pytest.mark.parametrize(
    ("payload", "failed", "says"),
    [
        (b"not json", "statement", "not an in-toto statement"),  # the whole detail
        (b"[]", "statement", "not an in-toto statement"),
        (json.dumps({"subject": []}).encode(), "statement", "not an in-toto statement"),
        (json.dumps({"predicateType": "x"}).encode(), "statement", "not an in-toto statement"),
        (statement(subject=[]), "subject-count", "the statement has 0 subjects; exactly one"),
        (statement(subject={"name": WHEEL}), "subject-count", "the statement has 0 subjects;"),
        (
            statement(subject=[{"name": WHEEL}, {"name": WHEEL}]),
            "subject-count",
            "the statement has 2 subjects; exactly one is allowed",
        ),
        (statement(subject=[{"digest": {"sha256": SHA}}]), "subject-name", "for '', not this"),
        (statement(subject=[{"name": WHEEL}]), "subject-digest", "covers sha256 None, but"),
        (
            statement(subject=[{"name": WHEEL, "digest": None}]),
            "subject-digest",
            "covers sha256 None, but",
        ),
        (
            statement(subject=[{"name": WHEEL, "digest": {"sha512": SHA}}]),
            "subject-digest",
            "covers sha256 None, but",
        ),
        (
            statement(predicateType="https://example.test/v9"),
            "predicate-type",
            "unknown predicate type 'https://example.test/v9'; PEP 740 knows "
            "https://docs.pypi.org/attestations/publish/v1, https://slsa.dev/provenance/v1",
        ),
    ],
)
def test_each_broken_statement_fails_its_own_check(payload: bytes, failed: str, says: str) -> None:
    with pytest.raises(AttestationRejected) as info:
        _check_statement(payload, WHEEL, SHA)
    assert (info.value.check, info.value.filename) == (failed, WHEEL)
    assert says in info.value.detail
    if failed == "statement":
        assert info.value.detail == says
    if failed == "subject-digest":
        assert info.value.detail.endswith(
            f"but the file's sha256 is {SHA}: the file was changed after it was signed"
        )
