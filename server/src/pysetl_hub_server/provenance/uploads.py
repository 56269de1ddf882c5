"""Attestations at upload: every one verified, or the whole upload refused with the check named.

twine (and `pysetl-hub publish`) send the `attestations` form field as a JSON list of PEP 740
attestation objects for the one file being uploaded. What the hub keeps is not that field but
the provenance object built from what verified, plus the publisher that signed.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from pysetl_hub_provenance import (
    AttestationRejected,
    Verified,
    provenance_from,
    verify_attestation,
)
from pysetl_hub_schemas import Publisher
from pysetl_hub_server.errors import InvalidUpload
from pysetl_hub_server.i18n.messages import _
from pysetl_hub_server.observability import metrics

MAX_ATTESTATIONS = 8


@dataclass(frozen=True, slots=True)
class Signed:
    provenance: str  # PEP 740 provenance object, JSON
    signer: dict[str, Any]  # the matched Publisher's fields


@dataclass(frozen=True, slots=True)
class Policy:
    """What the component asks of an upload."""

    name: str
    publishers: list[Publisher]
    require_attestations: bool


def _parse(raw: str, filename: str) -> list[dict[str, Any]]:
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise InvalidUpload(
            "attestation.format",
            _(
                "the attestations field for {filename} is not JSON: send a JSON list of PEP 740"
                " attestation objects (as twine upload --attestations does)",
                filename=filename,
            ),
        ) from exc
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(a, dict) for a in value):
        raise InvalidUpload(
            "attestation.format",
            _(
                "the attestations field for {filename} must be a non-empty JSON list of PEP 740"
                " attestation objects",
                filename=filename,
            ),
        )
    if len(value) > MAX_ATTESTATIONS:
        raise InvalidUpload(
            "attestation.format",
            _(
                "{value_count} attestations for {filename}; at most {MAX_ATTESTATIONS} are "
                "accepted",
                value_count=len(value),
                filename=filename,
                MAX_ATTESTATIONS=MAX_ATTESTATIONS,
            ),
        )
    return value


async def check_upload(
    raw: str | None, *, filename: str, sha256: str, policy: Policy, trust_root: Path
) -> Signed | None:
    """Verify the upload's attestations; None for an unsigned upload the component allows.
    Each outcome is counted: verified, refused (by its problem code) or none."""
    try:
        signed = await _check(
            raw, filename=filename, sha256=sha256, policy=policy, trust_root=trust_root
        )
    except InvalidUpload as exc:
        metrics.attestation("refused", exc.code)
        raise
    metrics.attestation("none" if signed is None else "verified")
    return signed


async def _check(
    raw: str | None, *, filename: str, sha256: str, policy: Policy, trust_root: Path
) -> Signed | None:
    if not raw or not raw.strip():
        if policy.require_attestations:
            raise InvalidUpload(
                "attestation.required",
                _(
                    "{component!r} requires attestations and {filename} has none: sign it in "
                    "its trusted publisher's workflow (pysetl-hub publish --attest, or python "
                    "-m pypi_attestations sign, then --attestations)",
                    component=policy.name,
                    filename=filename,
                ),
            )
        return None
    attestations = _parse(raw, filename)
    if not policy.publishers:
        raise InvalidUpload(
            "attestation.publisher",
            _(
                "{filename} is signed, but {component!r} has no trusted publisher to check the "
                "signature against: register one first with `pysetl-hub publishers add "
                "{component} github:OWNER/REPO/WORKFLOW.yml`",
                filename=filename,
                component=policy.name,
            ),
        )

    def verify_all() -> list[Verified]:
        return [
            verify_attestation(
                a,
                filename=filename,
                sha256=sha256,
                publishers=policy.publishers,
                trust_root=trust_root,
            )
            for a in attestations
        ]

    try:
        verified = await asyncio.to_thread(verify_all)
    except AttestationRejected as exc:
        raise InvalidUpload(f"attestation.{exc.check}", str(exc), check=exc.check) from exc

    types = [v.predicate_type for v in verified]
    if len(set(types)) != len(types):
        raise InvalidUpload(
            "attestation.duplicate",
            _(
                "{filename} has more than one attestation of one predicate type; send one of each",
                filename=filename,
            ),
        )
    provenance = provenance_from(list(zip(verified, attestations, strict=True)))
    return Signed(
        provenance=msgspec.json.encode(provenance).decode(),
        signer=msgspec.to_builtins(verified[0].publisher),
    )
