"""The provenance error tree: one base, so callers catch one type and read `check` or the text.

```
ProvenanceError
├── TrustRootError          the trusted_root.json is missing or malformed (a setting)
├── PublisherSpecError      a publisher spec or PEP 740 publisher object that does not parse
├── AttestationFileError    an attestation file beside a dist cannot be found or read
└── AttestationRejected     one attestation failed one named check (`check`) for one file
```

The server maps `AttestationRejected` to a 400 `attestation.<check>` problem, the client to exit
code 9; both show the same sentence.
"""

from __future__ import annotations


class ProvenanceError(Exception):
    """Base of every error this package raises."""


class TrustRootError(ProvenanceError):
    """The configured trust root file is missing or malformed."""


class PublisherSpecError(ProvenanceError, ValueError):
    """A publisher spec that does not parse; the message says which form is expected."""


class AttestationFileError(ProvenanceError):
    """Attestation files for a distribution are missing or unreadable."""


class AttestationRejected(ProvenanceError):
    """An attestation failed one named check (`check`), for one file."""

    def __init__(self, filename: str, check: str, detail: str) -> None:
        self.filename = filename
        self.check = check
        self.detail = detail
        super().__init__(f"attestation for {filename} failed the {check} check: {detail}")
