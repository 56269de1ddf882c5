"""The component page's view: what the template shows, built from the JSON API's read model
so the page and the API never disagree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from packaging.version import InvalidVersion, Version
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_schemas import Component, FileInfo, PlatformCheck, Publisher, Release, RoleList
from pysetl_hub_server.accounts.permissions import Identity
from pysetl_hub_server.components.services import get_component
from pysetl_hub_server.governance import lookup
from pysetl_hub_server.governance.roles import role_list
from pysetl_hub_server.quality.services import Scorer
from pysetl_hub_server.web import catalog, readme
from pysetl_hub_server.web.advisories import AdvisoryView, of_component


@dataclass(frozen=True, slots=True)
class Axis:
    """One column group of the compatibility matrix: an axis and its versions, oldest first."""

    key: str
    label: str
    versions: list[str]


@dataclass(frozen=True, slots=True)
class MatrixRow:
    version: str
    yanked: bool
    cells: dict[str, dict[str, bool]]  # axis -> version -> compatible


@dataclass(frozen=True, slots=True)
class ComponentView:
    component: Component
    latest: Release | None
    readme_html: str
    axes: list[Axis]
    matrix: list[MatrixRow]
    roles: RoleList
    downloads: catalog.Downloads
    links: list[tuple[str, str]]
    advisories: list[AdvisoryView]
    affected: dict[str, list[str]]  # version -> ids of the open advisories affecting it


def _sorted_versions(versions: set[str]) -> list[str]:
    def key(v: str) -> tuple[int, Version | str]:
        try:
            return (0, Version(v))
        except InvalidVersion:
            return (1, v)

    return sorted(versions, key=key)


def _checks(release: Release) -> dict[str, list[PlatformCheck]]:
    c = release.compatibility
    return {"pysetl": c.pysetl_matrix, "python": c.python_matrix, "spark": c.spark_matrix}


AXES = (("pysetl", "PySetl"), ("python", "Python"), ("spark", "Spark"))


def matrix(releases: list[Release]) -> tuple[list[Axis], list[MatrixRow]]:
    """Rows are releases (newest first), columns every version any release was checked on."""
    seen: dict[str, set[str]] = {key: set() for key, _ in AXES}
    rows = []
    for r in releases:
        cells: dict[str, dict[str, bool]] = {}
        for key, checks in _checks(r).items():
            cells[key] = {check.version: check.compatible for check in checks}
            seen[key].update(cells[key])
        rows.append(MatrixRow(r.version, r.yanked, cells))
    axes = [Axis(key, label, _sorted_versions(seen[key])) for key, label in AXES if seen[key]]
    return axes, rows


def safe_links(urls: dict[str, str]) -> list[tuple[str, str]]:
    """Project links a browser may follow: http(s) only, never javascript:, data: or file:."""
    return [
        (label, url)
        for label, url in urls.items()
        if url.lower().startswith(("https://", "http://")) and len(url) <= 2048
    ]


def signer_text(publisher: Publisher) -> dict[str, str | None]:
    """The parts of a signing identity the page names (the template words them)."""
    return {
        "kind": publisher.kind,
        "repository": publisher.repository,
        "workflow": publisher.workflow,
        "environment": publisher.environment,
        "identity": publisher.identity,
        "issuer": publisher.issuer,
    }


def files_signed(files: list[FileInfo]) -> int:
    return sum(1 for f in files if f.signer is not None)


async def view(
    session: AsyncSession, name: str, viewer: Identity | None, scorer: Scorer | None = None
) -> ComponentView:
    """`scorer` adds the quality score, as the JSON API's document has it."""
    component = await get_component(session, name, viewer, scorer)
    row = await lookup.component(session, name)
    advisories, affected = await of_component(session, row.id, component.versions)
    axes, rows = matrix(component.releases)
    latest = component.latest
    return ComponentView(
        component=component,
        latest=latest,
        readme_html=readme.render(latest.description, latest.description_content_type)
        if latest
        else "",
        axes=axes,
        matrix=rows,
        roles=await role_list(session, row),
        downloads=await catalog.downloads(session, row.id, datetime.now(UTC).date()),
        links=safe_links(latest.project_urls) if latest else [],
        advisories=advisories,
        affected=affected,
    )
