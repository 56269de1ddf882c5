"""Core metadata: strict on values and safety, lenient on the shape the public index accepts.

The hub stores what the archive's METADATA or PKG-INFO says, serves it as data in the JSON
API and shows it on pages: text must be text (no control characters, no bidirectional
overrides where one line is shown), links must be web links, and the description has one cap
whether it comes from the form or from inside the archive.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from packaging.metadata import ExceptionGroup, InvalidMetadata, Metadata, parse_email
from packaging.utils import canonicalize_name

from pysetl_hub_server.errors import InvalidUpload
from pysetl_hub_server.publishing.validate import ParsedFilename
from pysetl_hub_server.settings import UploadLimits
from pysetl_hub_server.units import human_size

# Fields shown as blocks of text, where line breaks and tabs are content.
MULTILINE = frozenset({"description", "license"})
# Embeddings, overrides and isolates: they reorder what a one-line label displays.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
URL_FIELDS = ("home_page", "download_url")
MAX_URL = 2048
MAX_URL_LABEL = 32  # the public index's cap on a Project-URL label
_METADATA_2_0 = re.compile(rb"\AMetadata-Version:[ \t]*2\.0[ \t]*(?=\r?\n)", re.IGNORECASE)


def parse_metadata(raw: bytes, parsed: ParsedFilename, limits: UploadLimits) -> Metadata:
    """Core metadata must parse, agree with the filename and have no direct-URL dependencies.

    Lenient on which Metadata-Version a field appears under: setuptools 61-75 writes
    `License-File` under 2.1/2.2, pip installs such files and the public index took them, so
    a field newer than its declared version is not a reason to refuse.
    """
    check_text(raw, limits)
    # bdist_wheel before 0.31 wrote "Metadata-Version: 2.0", a version no PEP defined; pip
    # reads it and the public index took it. Validate such files by the rules of 2.1.
    raw = _METADATA_2_0.sub(b"Metadata-Version: 2.1", raw, count=1)
    try:
        metadata = Metadata.from_email(raw, validate=True)
    except ExceptionGroup as group:
        problems = [e for e in group.exceptions if not _newer_than_declared(e)]
        if problems:
            raise InvalidUpload(
                "metadata.invalid",
                "the core metadata does not validate: "
                + "; ".join(_describe(e) for e in problems)
                + ". Fix the project's metadata (pyproject.toml) and build again",
            ) from group
        # Every value validated; only the version gate failed. Read the same fields as-is.
        metadata = Metadata.from_email(raw, validate=False)
    except (InvalidMetadata, ValueError) as exc:
        raise InvalidUpload("metadata.invalid", f"the core metadata does not parse: {exc}") from exc
    if canonicalize_name(metadata.name) != parsed.name:
        raise InvalidUpload(
            "metadata.name_mismatch",
            f"the metadata inside the archive names {metadata.name!r}, the filename "
            f"{parsed.name!r}: rebuild instead of renaming",
        )
    if metadata.version != parsed.version:
        raise InvalidUpload(
            "metadata.version_mismatch",
            f"the metadata inside the archive has version {metadata.version}, the filename "
            f"{parsed.version}: rebuild instead of renaming",
        )
    for req in metadata.requires_dist or []:
        if req.url:
            raise InvalidUpload(
                "metadata.direct_url",
                f"dependency {str(req)!r} points at a URL: published components must depend on "
                "names and versions from an index, not direct URLs",
            )
    return metadata


def check_text(raw: bytes, limits: UploadLimits) -> None:
    """Control characters, bidirectional overrides, URL schemes and the description cap."""
    fields, _unparsed = parse_email(raw)
    description = fields.get("description") or ""
    size = len(description.encode("utf-8", "surrogatepass"))
    if size > limits.max_description_size:
        raise InvalidUpload(
            "metadata.description_too_large",
            f"the description is {human_size(size)}, over this hub's cap of "
            f"{human_size(limits.max_description_size)} (the same cap as the form's "
            "description): shorten the README and link to the full documentation",
        )
    for field, text in _strings(fields):
        multiline = field in MULTILINE
        bad = next((c for c in text if _forbidden(c, multiline=multiline)), None)
        if bad is not None:
            raise InvalidUpload(
                "metadata.control_character",
                f"the metadata field {field!r} holds the character U+{ord(bad):04X}, a "
                f"{'bidirectional override' if bad in BIDI_CONTROLS else 'control character'}"
                ": remove it from pyproject.toml (or the README) and build again",
            )
    for field in URL_FIELDS:
        # setuptools before 62 writes "UNKNOWN" for a link the project does not give.
        if (value := fields.get(field)) and value != "UNKNOWN":
            _check_url(field, str(value))
    for label, url in (fields.get("project_urls") or {}).items():
        if len(label) > MAX_URL_LABEL:
            raise InvalidUpload(
                "metadata.url",
                f"the Project-URL label {label[:40]!r} is longer than {MAX_URL_LABEL} "
                "characters: shorten it",
            )
        _check_url(f"project_urls[{label}]", url)


def _strings(fields: object, field: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(fields, str):
        yield field, fields
    elif isinstance(fields, dict):
        for key, value in fields.items():
            name = field or str(key)
            yield from _strings(key, name)
            yield from _strings(value, name)
    elif isinstance(fields, list | tuple):
        for item in fields:
            yield from _strings(item, field)


def _forbidden(c: str, *, multiline: bool) -> bool:
    code = ord(c)
    if c == "\t":
        return False
    if c in "\n\r\f\v":  # line and page breaks: content in a README, forged lines elsewhere
        return not multiline
    if code < 0x20 or 0x7F <= code < 0xA0:
        return True
    return not multiline and c in BIDI_CONTROLS


def _check_url(field: str, url: str) -> None:
    """A link the hub shows must be a web link: no javascript:, data: or file: URLs."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise InvalidUpload(
            "metadata.url",
            f"the metadata field {field!r} holds {url[:80]!r}, which is not an http(s) URL: "
            "project links must be http:// or https:// URLs",
        )
    if len(url) > MAX_URL:
        raise InvalidUpload(
            "metadata.url", f"the URL in {field!r} is longer than {MAX_URL} characters"
        )


def _newer_than_declared(exc: Exception) -> bool:
    return isinstance(exc, InvalidMetadata) and "introduced in metadata version" in str(exc)


def _describe(exc: Exception) -> str:
    """`field: what is wrong`, so the message names the field to fix."""
    field = getattr(exc, "field", None)
    text = str(exc)
    return f"{field}: {text}" if field and not text.startswith(str(field)) else text
