"""Reading a distribution's core metadata the one way the hub and its client both read it.

Strict on every value, lenient on the shape the public index accepts: a field newer than the
declared Metadata-Version (setuptools 61-75 writes `License-File` under 2.1/2.2) and the
`Metadata-Version: 2.0` that bdist_wheel wrote before 0.31 are read, as pip reads them. The
server refusing what the client let through (or the reverse) would be the worst of both.
"""

from __future__ import annotations

import re

from packaging.metadata import ExceptionGroup, InvalidMetadata, Metadata

_METADATA_2_0 = re.compile(rb"\AMetadata-Version:[ \t]*2\.0[ \t]*(?=\r?\n)", re.IGNORECASE)


class CoreMetadataError(ValueError):
    """The metadata does not validate; `problems` names each field that is wrong."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def read_core_metadata(raw: bytes) -> Metadata:
    """METADATA or PKG-INFO bytes as validated `Metadata`, or `CoreMetadataError`."""
    raw = _METADATA_2_0.sub(b"Metadata-Version: 2.1", raw, count=1)  # validated as 2.1
    try:
        return Metadata.from_email(raw, validate=True)
    except ExceptionGroup as group:
        problems = [e for e in group.exceptions if not _newer_than_declared(e)]
        if problems:
            raise CoreMetadataError([_describe(e) for e in problems]) from group
        # Every value validated; only the version gate failed. Read the same fields as-is.
        return Metadata.from_email(raw, validate=False)
    except (InvalidMetadata, ValueError) as exc:
        raise CoreMetadataError([f"the metadata does not parse: {exc}"]) from exc


def _newer_than_declared(exc: Exception) -> bool:
    return isinstance(exc, InvalidMetadata) and "introduced in metadata version" in str(exc)


def _describe(exc: Exception) -> str:
    """`field: what is wrong`, so the message names the field to fix."""
    return f"{exc.field}: {exc}" if isinstance(exc, InvalidMetadata) else str(exc)
