"""`/pypi/{name}/json`, `/pypi/{name}/{version}/json` (the PyPI JSON API) and `/project/{name}/`
(the URL hatch and flit print after an upload), which leads to the component's page."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect
from packaging.utils import canonicalize_name

from pysetl_hub_schemas.pypi import PypiProject
from pysetl_hub_server.accounts.permissions import Identity
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.pypi import services


def _base(hub: Hub, request: Request[Any, Any, Any]) -> str:
    return (hub.settings.base_url or str(request.base_url)).rstrip("/")


@get("/pypi/{name:str}/json", tags=["pypi"], summary="PyPI JSON API: a project")
async def pypi_project(
    name: FromPath[str],
    request: Request[Any, Any, Any],
    hub: NamedDependency[Hub],
    viewer: NamedDependency[Identity | None],
) -> PypiProject:
    async with hub.sessions() as session:
        return await services.project(session, name, _base(hub, request), viewer)


@get("/pypi/{name:str}/{version:str}/json", tags=["pypi"], summary="PyPI JSON API: a release")
async def pypi_release(
    name: FromPath[str],
    version: FromPath[str],
    request: Request[Any, Any, Any],
    hub: NamedDependency[Hub],
    viewer: NamedDependency[Identity | None],
) -> PypiProject:
    async with hub.sessions() as session:
        return await services.release(session, name, version, _base(hub, request), viewer)


def _page(name: str) -> Redirect:
    return Redirect(path=f"/components/{canonicalize_name(name)}", status_code=303)


@get("/project/{name:str}", include_in_schema=False)
async def project_page(name: FromPath[str]) -> Redirect:
    """What `hatch publish` and `flit publish` print: the component's page (303, See Other)."""
    return _page(name)


@get("/project/{name:str}/{version:str}", include_in_schema=False)
async def project_release_page(name: FromPath[str], version: FromPath[str]) -> Redirect:
    """PyPI's release URL (the JSON API's `release_url`): the component's page."""
    return _page(name)


ROUTES = [pypi_project, pypi_release, project_page, project_release_page]
