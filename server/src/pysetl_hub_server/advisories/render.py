"""Stored advisories as OSV records (what OSV tooling reads) and as the PyPI JSON API's
`vulnerabilities` entries (what PyPI's auditors read)."""

from __future__ import annotations

from pysetl_hub_schemas.osv import (
    ECOSYSTEM,
    OSV_SCHEMA_VERSION,
    Osv,
    OsvAffected,
    OsvEvent,
    OsvPackage,
    OsvRange,
    OsvReference,
    OsvSeverity,
    OsvVulnRef,
)
from pysetl_hub_schemas.pypi import PypiVulnerability
from pysetl_hub_server.advisories.ranges import fixed_in
from pysetl_hub_server.db import models


def osv(a: models.Advisory, component: str) -> Osv:
    """`component` is the normalized name: pip-audit matches `affected[].package.name` to the
    canonical name of what it audits."""
    return Osv(
        schema_version=OSV_SCHEMA_VERSION,
        id=a.osv_id,
        modified=a.modified,
        published=a.published,
        withdrawn=a.withdrawn,
        aliases=list(a.aliases),
        summary=a.summary,
        details=a.details or None,
        severity=[OsvSeverity(type=s["type"], score=s["score"]) for s in a.severity],
        affected=[
            OsvAffected(
                package=OsvPackage(
                    ecosystem=ECOSYSTEM, name=component, purl=f"pkg:pypi/{component}"
                ),
                ranges=[
                    OsvRange(type=r["type"], events=[OsvEvent(**e) for e in r["events"]])
                    for r in entry.get("ranges", [])
                ],
                versions=list(entry.get("versions", [])),
            )
            for entry in a.affected
        ],
        references=[OsvReference(type=r["type"], url=r["url"]) for r in a.references],
    )


def ref(a: models.Advisory) -> OsvVulnRef:
    return OsvVulnRef(id=a.osv_id, modified=a.modified)


def pypi(a: models.Advisory, base_url: str) -> PypiVulnerability:
    return PypiVulnerability(
        id=a.osv_id,
        aliases=list(a.aliases),
        summary=a.summary,
        details=a.details or a.summary,
        fixed_in=fixed_in(a.affected),
        link=f"{base_url.rstrip('/')}/api/v1/advisories/{a.osv_id}",
        source="pysetl-hub",
        withdrawn=a.withdrawn,
    )
