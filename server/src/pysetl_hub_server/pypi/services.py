"""The PyPI JSON API documents (https://docs.pypi.org/api/json/), built from the same read
models as the hub's own JSON API, with absolute URLs (bots fetch `urls[].url` as given) and
the advisories that affect the described version as `vulnerabilities`.

Rendered per request: an advisory or a yank shows at once, with no cache to keep coherent.
"""

from __future__ import annotations

from packaging.utils import canonicalize_name
from packaging.version import Version
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_schemas import FileInfo, Release
from pysetl_hub_schemas.pypi import PypiDigests, PypiFile, PypiInfo, PypiProject
from pysetl_hub_server.accounts.permissions import Identity
from pysetl_hub_server.advisories import ranges, render
from pysetl_hub_server.advisories.services import standing
from pysetl_hub_server.components import services as components
from pysetl_hub_server.db import models
from pysetl_hub_server.errors import NotFound
from pysetl_hub_server.i18n.messages import _

_HOME = ("homepage", "home", "home-page", "home_page")


def _python_version(f: FileInfo) -> str:
    """PyPI's `python_version`: the wheel's Python tag, `source` for an sdist."""
    if f.packagetype == "sdist":
        return "source"
    parts = f.filename[: -len(".whl")].split("-")
    return parts[-3] if len(parts) >= 5 else "any"


def _file(f: FileInfo, release: Release, base: str) -> PypiFile:
    return PypiFile(
        filename=f.filename,
        url=base + f.url,
        digests=PypiDigests(
            sha256=f.hashes["sha256"],
            blake2b_256=f.hashes.get("blake2b_256"),
            md5=f.hashes.get("md5"),
        ),
        size=f.size,
        packagetype=f.packagetype,
        python_version=_python_version(f),
        requires_python=f.requires_python,
        upload_time=f.upload_time.strftime("%Y-%m-%dT%H:%M:%S"),
        upload_time_iso_8601=f.upload_time,
        yanked=release.yanked,
        yanked_reason=release.yanked_reason if release.yanked else None,
    )


def _info(name: str, r: Release, base: str, with_release_url: bool) -> PypiInfo:
    urls = dict(r.project_urls)
    home = next((v for k, v in urls.items() if k.lower() in _HOME), None)
    project = f"{base}/project/{name}/"
    return PypiInfo(
        name=r.name,
        version=r.version,
        summary=r.summary,
        description=r.description,
        description_content_type=r.description_content_type,
        author=r.author,
        license=r.license,
        keywords=",".join(r.keywords) or None,
        home_page=home,
        project_urls=urls or None,
        requires_dist=list(r.requires_dist) or None,
        requires_python=r.compatibility.requires_python,
        yanked=r.yanked,
        yanked_reason=r.yanked_reason if r.yanked else None,
        package_url=project,
        project_url=project,
        release_url=f"{base}/project/{name}/{r.version}/",
    )


async def _serial(session: AsyncSession, name: str) -> tuple[int, int]:
    row = (
        await session.execute(
            select(models.Component.id, models.Component.last_serial).where(
                models.Component.name == canonicalize_name(name)
            )
        )
    ).first()
    if row is None:  # pragma: no cover - the read model found it a moment ago
        raise NotFound("component.missing", _("no component named {name!r} on this hub", name=name))
    return int(row[0]), int(row[1])


async def _document(
    session: AsyncSession, name: str, release: Release, base: str, project: bool
) -> PypiProject:
    component_id, serial = await _serial(session, name)
    version = Version(release.version)
    vulns = [
        render.pypi(a, base)
        for a in await standing(session, component_id)
        if ranges.affects(a.affected, version)
    ]
    return PypiProject(
        info=_info(canonicalize_name(name), release, base, project),
        last_serial=serial,
        urls=[_file(f, release, base) for f in release.files],
        vulnerabilities=vulns,
    )


async def project(
    session: AsyncSession, name: str, base: str, viewer: Identity | None
) -> PypiProject:
    c = await components.get_component(session, name, viewer)
    if c.latest is None:
        raise NotFound(
            "release.missing", _("{component!r} has no release yet", component=c.display_name)
        )
    document = await _document(session, c.name, c.latest, base, project=True)
    document.releases = {
        r.version: [_file(f, r, base) for f in r.files]
        for r in sorted(c.releases, key=lambda r: Version(r.version))
    }
    return document


async def release(
    session: AsyncSession, name: str, version: str, base: str, viewer: Identity | None
) -> PypiProject:
    r = await components.get_release(session, name, version, viewer)
    return await _document(session, name, r, base, project=False)
