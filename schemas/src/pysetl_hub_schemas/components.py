"""Component, release and file views of the marketplace JSON API (`/api/v1`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from pysetl_hub_schemas.base import ComponentName, Request, Response, Version
from pysetl_hub_schemas.provenance import Publisher

Kind = Literal["factory", "pipeline"]


class EntryPoint(Response):
    """One entry point a release declares in a PySetl group."""

    group: str
    name: str
    value: str
    kind: Kind


class FileInfo(Response):
    """One distribution file of a release."""

    filename: str
    url: str
    packagetype: Literal["bdist_wheel", "sdist"]
    size: int
    hashes: dict[str, str]
    upload_time: datetime
    requires_python: str | None = None
    has_metadata: bool = False
    yanked: bool = False
    provenance: str | None = None
    """URL of the file's PEP 740 provenance object; None when the file is unsigned."""
    signer: Publisher | None = None
    """The trusted publisher whose attestation the hub verified at upload."""


class PlatformCheck(Response):
    """Whether a release's specifiers admit one platform version."""

    version: str
    compatible: bool


class Compatibility(Response):
    """Compatibility taken from core metadata and evaluated against known platforms."""

    requires_python: str | None = None
    pysetl: str | None = None
    pyspark: str | None = None
    python_matrix: list[PlatformCheck] = []
    pysetl_matrix: list[PlatformCheck] = []
    spark_matrix: list[PlatformCheck] = []


class Release(Response):
    """One version of a component."""

    name: ComponentName
    version: Version
    summary: str | None = None
    description: str | None = None
    description_content_type: str | None = None
    license: str | None = None
    keywords: list[str] = []
    project_urls: dict[str, str] = {}
    author: str | None = None
    kinds: list[Kind] = []
    entry_points: list[EntryPoint] = []
    requires_dist: list[str] = []
    compatibility: Compatibility = msgspec.field(default_factory=Compatibility)
    yanked: bool = False
    yanked_reason: str | None = None
    created: datetime | None = None
    files: list[FileInfo] = []


class QualitySignal(Response):
    """One signal of the quality score (docs/concepts/quality.md)."""

    key: str
    weight: int
    """Points the signal is worth out of 100."""
    value: float
    """How much of it the component earns, 0 to 1."""
    points: float
    explanation: str


class Quality(Response):
    """The quality score: the sum of its signals' points, 0 to 100, recomputed on every change."""

    total: int
    signals: list[QualitySignal] = []


class ComponentSummary(Response):
    """A component in a listing."""

    name: ComponentName
    latest_version: Version | None = None
    summary: str | None = None
    kinds: list[Kind] = []
    updated: datetime | None = None


class ComponentPage(Response):
    """One page of a component listing."""

    items: list[ComponentSummary]
    page: int
    per_page: int
    total: int


class Component(Response):
    """A component with its releases, newest first."""

    name: ComponentName
    display_name: str
    latest_version: Version | None = None
    owners: list[str] = []
    verified: bool = False
    """Every file of the latest release carries an attestation the hub verified."""
    require_attestations: bool = False
    versions: list[Version] = []
    latest: Release | None = None
    releases: list[Release] = []
    organization: str | None = None
    # Set by a hub admin: the component is hidden from the index, search and the public API;
    # only its owners (and admins) see it, with the reason.
    quarantined: bool = False
    quarantine_reason: str | None = None
    quality: Quality | None = None
    """The quality score and its signals (None: the component has no release)."""


class YankRequest(Request):
    """Body of `POST .../yank`."""

    reason: Annotated[str, Meta(max_length=500)] = ""


class UploadResult(Response):
    """Body of a successful `POST /legacy/`."""

    name: ComponentName
    version: Version
    filename: str
    sha256: str
    created: bool
    url: str
