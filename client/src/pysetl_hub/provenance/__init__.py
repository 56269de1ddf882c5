"""PEP 740 provenance: publisher identities and attestation verification.

Shared by the client (install, `verify`) and the server (upload), so both apply one rule.
"""

from pysetl_hub.provenance.identity import (
    PublisherSpecError,
    check_publisher,
    from_pep740,
    parse_publisher,
    same_identity,
    to_pep740,
)
from pysetl_hub.provenance.verify import (
    PRODUCTION_TRUST_ROOT,
    TRUST_ROOT_ENV,
    AttestationRejected,
    TrustRootError,
    Verified,
    load_attestation,
    trust_root_path,
    verify_attestation,
)

__all__ = [
    "PRODUCTION_TRUST_ROOT",
    "TRUST_ROOT_ENV",
    "AttestationRejected",
    "PublisherSpecError",
    "TrustRootError",
    "Verified",
    "check_publisher",
    "from_pep740",
    "load_attestation",
    "parse_publisher",
    "same_identity",
    "to_pep740",
    "trust_root_path",
    "verify_attestation",
]
