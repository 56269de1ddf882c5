"""Core metadata: strict on values and safety, lenient on the shape the public index accepts.

The hub stores what the archive's METADATA or PKG-INFO says, serves it as data in the JSON
API and shows it on pages: text must be text (no control characters, no bidirectional
overrides where one line is shown), links must be web links, and the description has one cap
whether it comes from the form or from inside the archive.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

from packaging.metadata import Metadata, parse_email
from packaging.utils import canonicalize_name

from pysetl_hub_provenance.coremetadata import CoreMetadataError, read_core_metadata
from pysetl_hub_server.errors import InvalidUpload
from pysetl_hub_server.i18n.messages import _
from pysetl_hub_server.publishing.validate import ParsedFilename
from pysetl_hub_server.settings import UploadLimits
from pysetl_hub_server.text import describe, forbidden_character
from pysetl_hub_server.units import human_size

# Fields shown as blocks of text, where line breaks and tabs are content.
MULTILINE = frozenset({"description", "license"})
URL_FIELDS = ("home_page", "download_url")
MAX_URL = 2048
MAX_URL_LABEL = 32  # the public index's cap on a Project-URL label


def parse_metadata(raw: bytes, parsed: ParsedFilename, limits: UploadLimits) -> Metadata:
    """Core metadata must parse (leniently on shape: `read_core_metadata`), agree with the
    filename and have no direct-URL dependencies."""
    check_text(raw, limits)
    try:
        metadata = read_core_metadata(raw)
    except CoreMetadataError as exc:
        raise InvalidUpload(
            "metadata.invalid",
            _(
                "the core metadata does not validate: {exc}. Fix the project's metadata "
                "(pyproject.toml) and build again",
                exc=exc,
            ),
        ) from exc
    if canonicalize_name(metadata.name) != parsed.name:
        raise InvalidUpload(
            "metadata.name_mismatch",
            _(
                "the metadata inside the archive names {metadata_name!r}, the filename "
                "{file_name!r}: rebuild instead of renaming",
                metadata_name=metadata.name,
                file_name=parsed.name,
            ),
        )
    if metadata.version != parsed.version:
        raise InvalidUpload(
            "metadata.version_mismatch",
            _(
                "the metadata inside the archive has version {version}, the filename "
                "{version2}: rebuild instead of renaming",
                version=metadata.version,
                version2=parsed.version,
            ),
        )
    for req in metadata.requires_dist or []:
        if req.url:
            raise InvalidUpload(
                "metadata.direct_url",
                _(
                    "dependency {req!r} points at a URL: published components must depend on "
                    "names and versions from an index, not direct URLs",
                    req=str(req),
                ),
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
            _(
                "the description is {size:,} bytes, over this hub's cap of "
                "{max_description_size} ({max_description_size2:,} bytes, the same cap as the "
                "form's description): shorten the README and link to the full documentation",
                size=size,
                max_description_size=human_size(limits.max_description_size),
                max_description_size2=limits.max_description_size,
            ),
        )
    for field, text in _strings(fields):
        bad = forbidden_character(text, multiline=field in MULTILINE)
        if bad is not None:
            raise InvalidUpload(
                "metadata.control_character",
                _(
                    "the metadata field {field!r} holds the character {bad}: remove it from "
                    "pyproject.toml (or the README) and build again",
                    field=field,
                    bad=describe(bad),
                ),
            )
    for field in URL_FIELDS:
        # setuptools before 62 writes "UNKNOWN" for a link the project does not give.
        if (value := fields.get(field)) and value != "UNKNOWN":
            _check_url(field, str(value))
    for label, url in (fields.get("project_urls") or {}).items():
        if len(label) > MAX_URL_LABEL:
            raise InvalidUpload(
                "metadata.url",
                _(
                    "the Project-URL label {label!r} is longer than {MAX_URL_LABEL} characters:"
                    " shorten it",
                    label=label[:40],
                    MAX_URL_LABEL=MAX_URL_LABEL,
                ),
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


def _check_url(field: str, url: str) -> None:
    """A link the hub shows must be a web link: no javascript:, data: or file: URLs."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise InvalidUpload(
            "metadata.url",
            _(
                "the metadata field {field!r} holds {url!r}, which is not an http(s) URL: "
                "project links must be http:// or https:// URLs",
                field=field,
                url=url[:80],
            ),
        )
    if len(url) > MAX_URL:
        raise InvalidUpload(
            "metadata.url",
            _(
                "the URL in {field!r} is longer than {MAX_URL} characters",
                field=field,
                MAX_URL=MAX_URL,
            ),
        )
