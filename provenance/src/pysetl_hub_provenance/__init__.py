"""PEP 740 provenance: publisher identities, attestation verification and the PEP 740 shapes.

The one trust rule: the server applies it at upload, the client before every install and in
`pysetl-hub verify`. Errors: see `pysetl_hub_provenance.errors` (one tree under
`ProvenanceError`).

Names load on first use: a submodule such as `coremetadata` imports without pulling in
sigstore, so the CLI commands that never verify stay quick to start.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pysetl_hub_provenance.convert import Declared, attestations_from, provenance_from
    from pysetl_hub_provenance.errors import (
        AttestationFileError,
        AttestationRejected,
        ProvenanceError,
        PublisherSpecError,
        TrustRootError,
    )
    from pysetl_hub_provenance.files import attestation_files, read_attestations, twine_attestations
    from pysetl_hub_provenance.identity import (
        check_publisher,
        from_pep740,
        parse_publisher,
        same_identity,
        to_pep740,
    )
    from pysetl_hub_provenance.verify import (
        PRODUCTION_TRUST_ROOT,
        TRUST_ROOT_ENV,
        Verified,
        load_attestation,
        trust_root_path,
        verifier_for,
        verify_attestation,
    )

_HOME = {
    "AttestationFileError": "pysetl_hub_provenance.errors",
    "AttestationRejected": "pysetl_hub_provenance.errors",
    "Declared": "pysetl_hub_provenance.convert",
    "PRODUCTION_TRUST_ROOT": "pysetl_hub_provenance.verify",
    "ProvenanceError": "pysetl_hub_provenance.errors",
    "PublisherSpecError": "pysetl_hub_provenance.errors",
    "TRUST_ROOT_ENV": "pysetl_hub_provenance.verify",
    "TrustRootError": "pysetl_hub_provenance.errors",
    "Verified": "pysetl_hub_provenance.verify",
    "attestation_files": "pysetl_hub_provenance.files",
    "attestations_from": "pysetl_hub_provenance.convert",
    "check_publisher": "pysetl_hub_provenance.identity",
    "from_pep740": "pysetl_hub_provenance.identity",
    "load_attestation": "pysetl_hub_provenance.verify",
    "parse_publisher": "pysetl_hub_provenance.identity",
    "provenance_from": "pysetl_hub_provenance.convert",
    "read_attestations": "pysetl_hub_provenance.files",
    "same_identity": "pysetl_hub_provenance.identity",
    "to_pep740": "pysetl_hub_provenance.identity",
    "trust_root_path": "pysetl_hub_provenance.verify",
    "twine_attestations": "pysetl_hub_provenance.files",
    "verifier_for": "pysetl_hub_provenance.verify",
    "verify_attestation": "pysetl_hub_provenance.verify",
}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "PRODUCTION_TRUST_ROOT",
    "TRUST_ROOT_ENV",
    "AttestationFileError",
    "AttestationRejected",
    "Declared",
    "ProvenanceError",
    "PublisherSpecError",
    "TrustRootError",
    "Verified",
    "attestation_files",
    "attestations_from",
    "check_publisher",
    "from_pep740",
    "load_attestation",
    "parse_publisher",
    "provenance_from",
    "read_attestations",
    "same_identity",
    "to_pep740",
    "trust_root_path",
    "twine_attestations",
    "verifier_for",
    "verify_attestation",
]
