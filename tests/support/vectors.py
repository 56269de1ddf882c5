"""Real-world Sigstore vectors (copied from ../shared/vectors/sigstore; see its README there):
artefacts signed in public CI against Sigstore production, with the expected signer."""

from __future__ import annotations

from pathlib import Path

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "sigstore"
PA = "pypi_attestations-0.0.19.tar.gz"
PAM = "pypi_attestation_models-0.0.4a2.tar.gz"
PA_PUBLISHER = "github:trailofbits/pypi-attestations/release.yml"
PAM_PUBLISHER = "github:trailofbits/pypi-attestation-models/release.yml"

# (artefact, attestation file, expected publisher)
REAL = [
    (PA, f"{PA}.publish.attestation", PA_PUBLISHER),
    (PAM, f"{PAM}.attestation", PAM_PUBLISHER),
]
# The PEP 740 provenance object PyPI serves for the first one.
PROVENANCE = (PA, f"{PA}.provenance", PA_PUBLISHER)
