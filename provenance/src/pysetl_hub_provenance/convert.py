"""PEP 740 shapes in and out: attestations grouped into a provenance object, and back.

The server builds the provenance object from what verified at upload; the client and
`pysetl-hub verify` read one (or a bare attestation) back into (declared publisher,
attestation) pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pysetl_hub_provenance.errors import PublisherSpecError
from pysetl_hub_provenance.identity import from_pep740, to_pep740
from pysetl_hub_provenance.verify import Verified
from pysetl_hub_schemas import AttestationBundle, Provenance, Publisher

Declared = tuple[Publisher | None, dict[str, Any]]


def provenance_from(verified: Sequence[tuple[Verified, dict[str, Any]]]) -> Provenance:
    """One bundle per publisher that signed, holding that publisher's attestations in order."""
    bundles: dict[str, tuple[Publisher, list[dict[str, Any]]]] = {}
    for v, raw in verified:
        bundles.setdefault(str(v.publisher), (v.publisher, []))[1].append(raw)
    return Provenance(
        attestation_bundles=[
            AttestationBundle(publisher=to_pep740(p), attestations=atts)
            for p, atts in bundles.values()
        ]
    )


def attestations_from(data: object) -> list[Declared]:
    """The attestations in a provenance object or a bare attestation, with the publisher each
    bundle declares (None where it declares none this package knows)."""
    if isinstance(data, dict) and "attestation_bundles" in data:
        found: list[Declared] = []
        for bundle in data["attestation_bundles"] or []:
            if not isinstance(bundle, dict):
                continue
            try:
                declared: Publisher | None = from_pep740(bundle.get("publisher") or {})
            except PublisherSpecError:
                declared = None
            found += [
                (declared, a) for a in bundle.get("attestations") or [] if isinstance(a, dict)
            ]
        return found
    if isinstance(data, dict):
        return [(None, data)]
    return []
