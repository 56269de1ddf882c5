"""PEP 740 verification against any Sigstore trust root, with each failure named.

`pypi_attestations.Attestation.verify` only knows Sigstore's production and staging instances,
so this wraps `sigstore.verify.Verifier.verify_dsse` (built from an explicit trusted_root.json,
never the user's TUF cache) and then makes the statement checks PEP 740 asks of an index:
one subject, named for the file, with the file's sha256, and a known predicate type.

The server runs it at upload, the client before every install, `pysetl-hub verify` on any file.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)
from pydantic import ValidationError
from pypi_attestations import Attestation, AttestationType, ConversionError
from sigstore.errors import CertValidationError
from sigstore.errors import Error as SigstoreError
from sigstore.models import TrustedRoot
from sigstore.verify import Verifier

from pysetl_hub_provenance.errors import AttestationRejected, TrustRootError
from pysetl_hub_provenance.identity import AnyOf, IdentityMismatch
from pysetl_hub_schemas import Publisher

TRUST_ROOT_ENV = "PYSETL_HUB_SIGSTORE_TRUST_ROOT"
PRODUCTION_TRUST_ROOT = Path(__file__).with_name("production_trusted_root.json")
DSSE_PAYLOAD_TYPE = "application/vnd.in-toto+json"
KNOWN_PREDICATES = frozenset(t.value for t in AttestationType)


@dataclass(frozen=True)
class Verified:
    """What a verified attestation proves: who signed which file, and what kind of claim."""

    filename: str
    sha256: str
    publisher: Publisher
    predicate_type: str


def trust_root_path(explicit: str | Path | None = None) -> Path:
    """The trusted root in force: an explicit file, else $PYSETL_HUB_SIGSTORE_TRUST_ROOT,
    else the pinned Sigstore production root shipped with this package."""
    chosen = explicit or os.environ.get(TRUST_ROOT_ENV) or PRODUCTION_TRUST_ROOT
    return Path(chosen)


@functools.lru_cache(maxsize=8)
def _verifier(path: str, mtime_ns: int) -> Verifier:
    return Verifier(trusted_root=TrustedRoot.from_file(path))


def verifier_for(path: Path) -> Verifier:
    try:
        return _verifier(str(path), path.stat().st_mtime_ns)
    except OSError as exc:
        raise TrustRootError(f"cannot read the Sigstore trust root {path}: {exc.strerror}") from exc
    except (SigstoreError, ValueError) as exc:
        raise TrustRootError(f"{path} is not a Sigstore trusted_root.json: {exc}") from exc


def _dist_key(filename: str) -> tuple[Any, ...]:
    """A filename parsed, so equivalent spellings (case, separators, tag order) compare equal."""
    if filename.endswith(".whl"):
        name, version, build, tags = parse_wheel_filename(filename)
        return (name, version, build, tags)
    if filename.endswith((".tar.gz", ".zip")):
        return parse_sdist_filename(filename)
    raise ValueError(f"{filename!r} is neither a wheel nor an sdist")


def _classify(exc: SigstoreError) -> str:
    message = str(exc)
    if isinstance(exc, IdentityMismatch):
        return "publisher"
    if isinstance(exc, CertValidationError):
        if "not valid at validation time" in message:
            return "signed-time"
        return "certificate-chain"
    if "SCT" in message:
        return "sct"
    if "checkpoint" in message:
        return "checkpoint"
    if "SET" in message or "inclusion promise" in message:
        return "inclusion-promise"
    if "inclusion proof" in message:
        return "inclusion-proof"
    if "expired at time of signing" in message or "verified time" in message:
        return "signed-time"
    if "DSSE" in message:
        return "signature"
    return "transparency-log"


_EXPLAIN = {
    "certificate-chain": "the signing certificate does not chain to a CA of the trust root",
    "signed-time": "the signature was logged outside the signing certificate's validity",
    "sct": "the certificate's embedded SCT is not signed by a CT log of the trust root",
    "checkpoint": "the transparency log checkpoint is not signed by a log of the trust root",
    "inclusion-promise": "the log's inclusion promise (SET) does not verify",
    "inclusion-proof": "the Merkle inclusion proof does not lead to the checkpoint's root",
    "signature": "the envelope's signature does not verify with the certificate's key",
    "transparency-log": "the transparency log entry does not match the attestation",
}


def _explain(check: str, exc: Exception) -> str:
    return f"{_EXPLAIN[check]} ({exc})" if check in _EXPLAIN else str(exc)


def load_attestation(raw: dict[str, Any] | str | bytes, filename: str) -> Attestation:
    try:
        if isinstance(raw, dict):
            return Attestation.model_validate(raw)
        return Attestation.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "attestation"
        raise AttestationRejected(
            filename, "format", f"not a PEP 740 attestation ({where}: {first['msg']})"
        ) from exc


def verify_attestation(
    attestation: Attestation | dict[str, Any],
    *,
    filename: str,
    sha256: str,
    publishers: Sequence[Publisher],
    trust_root: Path | None = None,
) -> Verified:
    """Verify one attestation for the file `filename` with digest `sha256`.

    Raises `AttestationRejected` naming the first failed check.
    """
    verifier = verifier_for(trust_root_path(trust_root))
    if isinstance(attestation, dict):
        attestation = load_attestation(attestation, filename)
    if not publishers:
        raise AttestationRejected(filename, "publisher", "no trusted publisher to verify against")
    try:
        bundle = attestation.to_bundle()
    except (ConversionError, SigstoreError, ValueError) as exc:
        raise AttestationRejected(filename, "format", str(exc)) from exc

    match = AnyOf(list(publishers))
    try:
        payload_type, payload = verifier.verify_dsse(bundle, match)
    except SigstoreError as exc:
        check = _classify(exc)
        raise AttestationRejected(filename, check, _explain(check, exc)) from exc
    if payload_type != DSSE_PAYLOAD_TYPE:
        raise AttestationRejected(filename, "payload-type", f"expected {DSSE_PAYLOAD_TYPE}")
    if match.matched is None:  # pragma: no cover - verify_dsse always applies the policy
        raise AttestationRejected(filename, "publisher", "no publisher matched")

    predicate = _check_statement(payload, filename, sha256)
    return Verified(filename, sha256, match.matched, predicate)


def _check_statement(payload: bytes, filename: str, sha256: str) -> str:
    try:
        statement = json.loads(payload)
        subjects = statement["subject"]
        predicate_type = statement["predicateType"]
    except (ValueError, KeyError, TypeError) as exc:
        raise AttestationRejected(filename, "statement", "not an in-toto statement") from exc
    if not isinstance(subjects, list) or len(subjects) != 1:
        count = len(subjects) if isinstance(subjects, list) else 0
        raise AttestationRejected(
            filename, "subject-count", f"the statement has {count} subjects; exactly one is allowed"
        )
    subject = subjects[0]
    name = str(subject.get("name", ""))
    try:
        same = _dist_key(name) == _dist_key(filename)
    except (ValueError, InvalidWheelFilename, InvalidSdistFilename):
        same = False
    if not same:
        raise AttestationRejected(
            filename, "subject-name", f"the attestation is for {name!r}, not this file"
        )
    digest = (subject.get("digest") or {}).get("sha256")
    if digest != sha256:
        raise AttestationRejected(
            filename,
            "subject-digest",
            f"the attestation covers sha256 {digest}, but the file's sha256 is {sha256}: "
            "the file was changed after it was signed",
        )
    if predicate_type not in KNOWN_PREDICATES:
        raise AttestationRejected(
            filename,
            "predicate-type",
            f"unknown predicate type {predicate_type!r}; PEP 740 knows "
            + ", ".join(sorted(KNOWN_PREDICATES)),
        )
    return str(predicate_type)
