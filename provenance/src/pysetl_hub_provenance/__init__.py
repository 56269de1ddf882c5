"""PEP 740 provenance: publisher identities, attestation verification and the PEP 740 shapes.

The one trust rule: the server applies it at upload, the client before every install and in
`pysetl-hub verify`. Errors: see `pysetl_hub_provenance.errors` (one tree under
`ProvenanceError`).
"""

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
