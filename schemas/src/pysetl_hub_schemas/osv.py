"""Security advisories in the OSV schema (https://ossf.github.io/osv-schema/) and the OSV query
API (api.osv.dev `/v1/query`, `/v1/querybatch`, `/v1/vulns/{id}`).

OSV is an external format: the `Osv*` Structs render exactly its JSON (absent fields omitted,
as OSV tooling expects). The `Advisory*` Structs are what an owner sends to publish one: the
same shape, strict (unknown fields are an error), with the hub filling in the id, the package
and the timestamps.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from pysetl_hub_schemas.base import Request, Response

OSV_SCHEMA_VERSION = "1.6.0"
# Bounds of one advisory's affected data: every OSV query evaluates all of it, so without them
# one advisory could make each (unauthenticated) query of its component cost seconds.
MAX_RANGES = 20
MAX_EVENTS = 100
MAX_VERSIONS = 2000
ECOSYSTEM = "PyPI"
AdvisoryId = Annotated[
    str,
    Meta(
        # `(?!\n)`: Python's `$` also matches before a final newline ("CVE-2026-1\n" would
        # be a second id that reads like the first); a no-op for JSON Schema readers.
        pattern=r"^[A-Z][A-Z0-9]*-[A-Za-z0-9][A-Za-z0-9._:-]*$(?!\n)",
        max_length=64,
        description="OSV id: `<DATABASE>-<ID>`; the hub assigns `PSHUB-<year>-<n>` when none "
        "is given.",
        examples=["PSHUB-2026-0001"],
    ),
]
SeverityType = Literal["CVSS_V2", "CVSS_V3", "CVSS_V4"]
ReferenceType = Literal[
    "ADVISORY", "ARTICLE", "DETECTION", "DISCUSSION", "REPORT", "FIX", "INTRODUCED", "PACKAGE",
    "EVIDENCE", "WEB",
]  # fmt: skip


class _Osv(msgspec.Struct, kw_only=True, omit_defaults=True):
    """OSV JSON: optional fields are left out rather than written as null."""


class OsvPackage(_Osv, kw_only=True):
    ecosystem: str  # always written: readers index it
    name: str
    purl: str | None = None


class OsvEvent(_Osv, kw_only=True):
    """One event of a range: exactly one of the fields is set."""

    introduced: str | None = None
    fixed: str | None = None
    last_affected: str | None = None
    limit: str | None = None


class OsvRange(_Osv, kw_only=True):
    type: str
    events: list[OsvEvent]


class OsvSeverity(_Osv, kw_only=True):
    type: str
    score: str


class OsvAffected(_Osv, kw_only=True):
    package: OsvPackage
    ranges: list[OsvRange] = []
    versions: list[str] = []


class OsvReference(_Osv, kw_only=True):
    type: str
    url: str


class Osv(_Osv, kw_only=True):
    """One vulnerability record, as api.osv.dev serves it."""

    schema_version: str  # always written (OSV_SCHEMA_VERSION)
    id: str
    modified: datetime
    published: datetime | None = None
    withdrawn: datetime | None = None
    aliases: list[str] = []
    summary: str | None = None
    details: str | None = None
    severity: list[OsvSeverity] = []
    affected: list[OsvAffected] = []
    references: list[OsvReference] = []


# --- publishing ---------------------------------------------------------------------------


class AdvisoryEvent(Request, kw_only=True, omit_defaults=True):
    introduced: str | None = None
    fixed: str | None = None
    last_affected: str | None = None


class AdvisoryRange(Request, kw_only=True):
    type: Annotated[
        Literal["ECOSYSTEM"],
        Meta(description="PEP 440 versions, as the PyPI ecosystem orders them."),
    ] = "ECOSYSTEM"
    events: Annotated[list[AdvisoryEvent], Meta(max_length=MAX_EVENTS)]


class AdvisoryPackage(Request, kw_only=True):
    ecosystem: Literal["PyPI"] = "PyPI"
    name: str


class AdvisoryAffected(Request, kw_only=True):
    package: Annotated[
        AdvisoryPackage | None, Meta(description="Defaults to the component in the URL.")
    ] = None
    ranges: Annotated[list[AdvisoryRange], Meta(max_length=MAX_RANGES)] = []
    versions: Annotated[
        list[str], Meta(max_length=MAX_VERSIONS, description="Affected versions, listed.")
    ] = []


class AdvisorySeverity(Request, kw_only=True):
    type: Literal["CVSS_V3", "CVSS_V4"]
    score: Annotated[
        str,
        Meta(
            max_length=200,
            examples=["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"],
            description="The CVSS vector string.",
        ),
    ]


class AdvisoryReference(Request, kw_only=True):
    type: ReferenceType = "WEB"
    url: Annotated[str, Meta(max_length=2000, description="An http(s) URL.")]


class AdvisoryCreate(Request, kw_only=True):
    """An advisory against one component, in the OSV schema's words."""

    id: AdvisoryId | None = None
    aliases: Annotated[
        list[str], Meta(max_length=20, examples=[["CVE-2026-12345", "GHSA-abcd-efgh-ijkm"]])
    ] = []
    summary: Annotated[str, Meta(min_length=1, max_length=300)]
    details: Annotated[str, Meta(max_length=50_000)] = ""
    severity: Annotated[list[AdvisorySeverity], Meta(max_length=4)] = []
    affected: Annotated[list[AdvisoryAffected], Meta(min_length=1, max_length=50)]
    references: Annotated[list[AdvisoryReference], Meta(max_length=50)] = []
    published: datetime | None = None


class AdvisoryWithdraw(Request, kw_only=True):
    reason: Annotated[str, Meta(max_length=500)] = ""


class AdvisoryPage(Response, kw_only=True):
    """Advisories, most recently modified first, in OSV JSON."""

    vulns: list[Osv]
    page: int
    per_page: int
    total: int


# --- the OSV query API --------------------------------------------------------------------


class OsvQueryPackage(msgspec.Struct, kw_only=True):
    name: str | None = None
    ecosystem: str | None = None
    purl: str | None = None


class OsvQuery(msgspec.Struct, kw_only=True):
    """`POST /v1/query`: a package, and a version (all versions when absent)."""

    package: OsvQueryPackage | None = None
    version: str | None = None
    commit: str | None = None
    page_token: str | None = None


class OsvVulns(_Osv, kw_only=True):
    """The answer to one query: `{}` when nothing affects it, as api.osv.dev answers."""

    vulns: list[Osv] | UnsetType = UNSET


class OsvBatchQuery(msgspec.Struct, kw_only=True):
    queries: Annotated[list[OsvQuery], Meta(max_length=1000)]


class OsvVulnRef(_Osv, kw_only=True):
    id: str
    modified: datetime


class OsvBatchResult(_Osv, kw_only=True):
    vulns: list[OsvVulnRef] | UnsetType = UNSET


class OsvBatchResponse(_Osv, kw_only=True):
    results: list[OsvBatchResult]


# --- `pysetl-hub audit --json` ------------------------------------------------------------


class AuditAdvisory(Response, kw_only=True):
    """An advisory that affects a checked version."""

    id: str
    aliases: list[str] = []
    summary: str = ""
    fixed_in: list[str] = []


class AuditFinding(Response, kw_only=True):
    """One installed (or locked) distribution and the advisories (not withdrawn) that affect
    its version."""

    name: str
    version: str
    advisories: list[AuditAdvisory]


class AuditReport(Response, kw_only=True):
    """What `pysetl-hub audit --json` prints; the exit code is 1 when `affected` is not empty."""

    hub: str
    source: str
    checked: int
    affected: list[AuditFinding]
