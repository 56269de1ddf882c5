"""Which trusted publishers a verified CI token stands for.

GitHub Actions: the `repository` claim, and `job_workflow_ref`
("OWNER/REPO/.github/workflows/FILE@REF"), whose repository must be the same and whose file
name is compared with the publisher's workflow. GitLab CI: the `project_path` claim and
`ci_config_ref_uri` ("HOST/GROUP/PROJECT//PATH@REF"), on the issuer's own host. Either way the
`environment` claim must equal the publisher's environment when the publisher names one.
Repositories compare case-insensitively (as both forges treat them), file names exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_server.db.models import Component, TrustedPublisher
from pysetl_hub_server.i18n.messages import _
from pysetl_hub_server.provenance.oidc.errors import Unprocessable
from pysetl_hub_server.settings import OidcIssuer

WORKFLOWS = "/.github/workflows/"


@dataclass(frozen=True, slots=True)
class CiIdentity:
    """What a CI token says about the job that asked for it."""

    kind: str  # "github" | "gitlab"
    repository: str
    workflow: str  # GitHub: the workflow file name; GitLab: the CI config path
    environment: str | None
    ref: str

    def describe(self) -> str:
        env = f", environment {self.environment!r}" if self.environment else ", no environment"
        return f"{self.kind} repository {self.repository!r}, workflow {self.workflow!r}{env}"

    def matched(self) -> dict[str, str | None]:
        """The claims a publisher matched, for the audit log (never the token itself)."""
        return {
            "repository": self.repository,
            "workflow": self.workflow,
            "environment": self.environment,
            "ref": self.ref,
        }


def _text(claims: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = claims.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > 1024:
        raise Unprocessable(
            "oidc.claims", _("the OIDC token lacks a usable {name!r} claim", name=name)
        )
    return value


def _github(claims: dict[str, Any]) -> CiIdentity:
    repository = _text(claims, "repository") or ""
    ref_claim = _text(claims, "job_workflow_ref") or ""
    path, _sep, ref = ref_claim.partition("@")
    owner_repo, marker, filename = path.partition(WORKFLOWS)
    if not (marker and ref and filename) or "/" in filename:
        raise Unprocessable(
            "oidc.claims",
            _("the OIDC token's job_workflow_ref is not OWNER/REPO/.github/workflows/FILE@REF"),
        )
    if owner_repo.lower() != repository.lower():
        # A reusable workflow of another repository: not the workflow a publisher names.
        filename = f"{owner_repo}{WORKFLOWS}{filename}"
    return CiIdentity(
        "github", repository, filename, _text(claims, "environment", required=False), ref
    )


def _gitlab(claims: dict[str, Any], issuer: OidcIssuer) -> CiIdentity:
    project = _text(claims, "project_path") or ""
    uri = _text(claims, "ci_config_ref_uri") or ""
    head, sep, tail = uri.partition("//")
    host, _sep, uri_project = head.partition("/")
    config_path, at, ref = tail.partition("@")
    if not (sep and at and ref and config_path):
        raise Unprocessable(
            "oidc.claims", _("the OIDC token's ci_config_ref_uri is not HOST/PROJECT//PATH@REF")
        )
    if host.lower() != httpx.URL(issuer.url).netloc.decode().lower() or (
        uri_project.lower() != project.lower()
    ):
        config_path = uri  # a pipeline defined elsewhere: no publisher names it
    return CiIdentity(
        "gitlab", project, config_path, _text(claims, "environment", required=False), ref
    )


def identity_of(issuer: OidcIssuer, claims: dict[str, Any]) -> CiIdentity:
    """The job's identity, in the issuer's kind of claims; a 422 when a claim is missing."""
    return _github(claims) if issuer.kind == "github" else _gitlab(claims, issuer)


def matches(publisher: TrustedPublisher, ci: CiIdentity) -> bool:
    if publisher.kind != ci.kind or not publisher.repository or not publisher.workflow:
        return False
    if publisher.repository.lower() != ci.repository.lower():
        return False
    wanted = publisher.workflow if ci.kind == "github" else publisher.workflow.lstrip("/")
    if wanted != ci.workflow:
        return False
    if publisher.environment:
        if ci.environment is None:
            return False
        if ci.kind == "github":  # GitHub environment names are case-insensitive
            return publisher.environment.lower() == ci.environment.lower()
        return publisher.environment == ci.environment
    return True


async def matching_publishers(
    session: AsyncSession, ci: CiIdentity
) -> list[tuple[TrustedPublisher, Component]]:
    """Every (publisher, component) the job may publish for, oldest publisher first."""
    rows = await session.execute(
        select(TrustedPublisher, Component)
        .join(Component, Component.id == TrustedPublisher.component_id)
        .where(
            TrustedPublisher.kind == ci.kind,
            func.lower(TrustedPublisher.repository) == ci.repository.lower(),
        )
        .order_by(TrustedPublisher.id)
    )
    return [(p, c) for p, c in rows if matches(p, ci)]
