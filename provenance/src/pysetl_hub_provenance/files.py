"""Attestation files on disk: the `<dist>.<kind>.attestation` files twine and
`python -m pypi_attestations sign` write, and provenance/attestation JSON for `verify`."""

from __future__ import annotations

import json
from pathlib import Path

from pysetl_hub_provenance.convert import Declared, attestations_from
from pysetl_hub_provenance.errors import AttestationFileError


def attestation_files(dist: Path) -> list[Path]:
    """Every `<file>.<kind>.attestation` beside `dist`, sorted (twine's rule)."""
    return sorted(dist.parent.glob(f"{dist.name}.*.attestation"))


def twine_attestations(dist: Path) -> str:
    """The `attestations` form field twine sends for `dist`: a JSON list of its attestations."""
    found = attestation_files(dist)
    if not found:
        raise AttestationFileError(
            f"no {dist.name}.*.attestation file beside {dist.name}; sign the dists first "
            "(python -m pypi_attestations sign dist/*)"
        )
    try:
        return json.dumps([json.loads(f.read_text()) for f in found])
    except (OSError, ValueError) as exc:
        raise AttestationFileError(f"cannot read the attestations of {dist.name}: {exc}") from exc


def read_attestations(path: Path) -> list[Declared]:
    """The attestations in one file: a PEP 740 attestation, or a provenance object."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise AttestationFileError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise AttestationFileError(
            f"{path} is neither a PEP 740 attestation nor a provenance object"
        )
    return attestations_from(data)
