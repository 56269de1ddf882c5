"""The OSV query API, as api.osv.dev answers it, so OSV clients (pip-audit `-s osv
--osv-url`, osv-scanner) audit hub components unchanged.

A query names a package (PyPI ecosystem; the name compared in PEP 503 normalized form) and a
version; without a version every advisory of the package is returned. Withdrawn advisories
are never returned as affecting. A name the hub does not have is no error: `{}`, as OSV
answers for a package it has no record of.
"""

from __future__ import annotations

from packaging.utils import canonicalize_name
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_schemas.osv import (
    ECOSYSTEM,
    Osv,
    OsvBatchQuery,
    OsvBatchResponse,
    OsvBatchResult,
    OsvQuery,
    OsvVulns,
)
from pysetl_hub_server.advisories import ranges, render
from pysetl_hub_server.advisories.services import standing
from pysetl_hub_server.db import models
from pysetl_hub_server.errors import BadRequest
from pysetl_hub_server.i18n.messages import _

PURL_PREFIX = "pkg:pypi/"


def _target(q: OsvQuery) -> tuple[str, str | None]:
    """(normalized name, version) of a query, or a 400 that says what OSV queries this hub
    answers."""
    if q.commit is not None:
        raise BadRequest(
            "osv.commit",
            _(
                "this hub answers package queries only, not commit queries; give a package "
                "and a version"
            ),
        )
    package = q.package
    name: str | None = None
    version = q.version
    if package is not None and package.purl:
        purl, _at, purl_version = package.purl.partition("@")
        if purl.startswith(PURL_PREFIX):
            name = purl[len(PURL_PREFIX) :]
            version = version or purl_version or None
    elif package is not None and package.name:
        if package.ecosystem not in (None, ECOSYSTEM):
            raise BadRequest(
                "osv.ecosystem",
                _(
                    "this hub holds PyPI packages only, not {ecosystem!r}; query with "
                    '"ecosystem": "PyPI"',
                    ecosystem=package.ecosystem,
                ),
            )
        name = package.name
    if not name:
        raise BadRequest(
            "osv.package",
            _(
                'a query names a package: {{"package": {{"name": "...", "ecosystem": "PyPI"}}, '
                '"version": "..."}}'
            ),
        )
    return canonicalize_name(name), version


async def _affecting(session: AsyncSession, q: OsvQuery) -> tuple[str, list[models.Advisory]]:
    name, version = _target(q)
    component = await session.scalar(
        select(models.Component).where(
            models.Component.name == name, models.Component.quarantined_at.is_(None)
        )
    )
    if component is None:
        return name, []
    found = await standing(session, component.id)
    if version is None:
        return name, found
    parsed = ranges.parse_version(version, "version")
    return name, [a for a in found if ranges.affects(a.affected, parsed)]


async def query(session: AsyncSession, q: OsvQuery) -> OsvVulns:
    name, found = await _affecting(session, q)
    vulns: list[Osv] = [render.osv(a, name) for a in found]
    return OsvVulns(vulns=vulns) if vulns else OsvVulns()


async def batch(session: AsyncSession, body: OsvBatchQuery) -> OsvBatchResponse:
    """Each result lists only ids and modified times, as api.osv.dev's batch does; details
    are at `/vulns/{id}`."""
    results = []
    for q in body.queries:
        _name, found = await _affecting(session, q)
        results.append(
            OsvBatchResult(vulns=[render.ref(a) for a in found]) if found else OsvBatchResult()
        )
    return OsvBatchResponse(results=results)
