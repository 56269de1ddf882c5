"""Trusted publishers and PEP 740 provenance on the wire.

A `Publisher` is an identity allowed to sign a component's releases. The hub stores and serves
these; the client pins them. PEP 740 objects (`Provenance`, `AttestationBundle`) keep the
attestations as raw JSON objects, since their exact bytes are what a verifier checks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from pysetl_hub_schemas.base import Request, Response

PublisherKind = Literal["github", "gitlab", "sigstore"]
_Text = Annotated[str, Meta(min_length=1, max_length=255)]


class Publisher(Response):
    """One signing identity.

    - github: `repository` (OWNER/REPO), `workflow` (file name), optional `environment`;
    - gitlab: `repository` (NAMESPACE/PROJECT), `workflow` (CI file path), optional `environment`;
    - sigstore: `issuer` (OIDC issuer URL) and `identity` (e-mail or URI in the certificate).
    """

    kind: PublisherKind
    repository: str | None = None
    workflow: str | None = None
    environment: str | None = None
    issuer: str | None = None
    identity: str | None = None

    def __str__(self) -> str:
        if self.kind == "github":
            return f"github:{self.repository}/{self.workflow}"
        if self.kind == "gitlab":
            return f"gitlab:{self.repository}//{self.workflow}"
        return f"sigstore:{self.identity} (issuer {self.issuer})"


class PublisherRequest(Request):
    """Body of `POST /api/v1/components/{name}/publishers`."""

    kind: PublisherKind
    repository: _Text | None = None
    workflow: _Text | None = None
    environment: _Text | None = None
    issuer: _Text | None = None
    identity: _Text | None = None


class TrustedPublisher(Response):
    """A publisher registered for a component."""

    id: int
    publisher: Publisher
    spec: str
    added: datetime
    added_by: str | None = None


class PublisherList(Response):
    """The trusted publishers of a component, and whether it refuses unsigned uploads."""

    component: str
    require_attestations: bool
    publishers: list[TrustedPublisher]


class ComponentSettings(Request):
    """Body of `PATCH /api/v1/components/{name}`: owner-only settings."""

    require_attestations: bool | None = None


class AttestationBundle(Response):
    """PEP 740: the attestations one publisher made for one file."""

    publisher: dict[str, Any]
    attestations: list[dict[str, Any]]


class Provenance(Response):
    """PEP 740 provenance object, served at `/integrity/{name}/{version}/{filename}/provenance`."""

    version: int = 1
    attestation_bundles: list[AttestationBundle] = msgspec.field(default_factory=list)
