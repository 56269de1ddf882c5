"""The PyPI JSON API (`/pypi/{name}/json`, `/pypi/{name}/{version}/json`) in the shape the
tools that read it expect, and `/project/{name}/`, the URL hatch and flit print after upload.

The keys checked are those dependency bots read (Renovate's and Dependabot's PyPI datasources:
`info.version`, `info.requires_python`, `releases`, `urls[].digests.sha256`,
`urls[].upload_time_iso_8601`, `urls[].yanked`) and those pip-audit's PyPI service reads
(`vulnerabilities[].id/aliases/fixed_in/summary/details/withdrawn`). pip-audit's own PyPI
service is run against the hub: it only ever asks https://pypi.org, so that one host (the
public internet) is redirected to the live hub by a requests transport adapter; nothing else
is mocked. SQLite only: these documents are read models, the advisory tests cover both
databases.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from requests.adapters import HTTPAdapter

from tests.server.advisories.conftest import advisory, sqlite_hub
from tests.server.governance.conftest import Gov
from tests.support.live import LiveServer
from tests.support.upload import problem

__all__ = ["sqlite_hub"]


@pytest.fixture(scope="module")
def gov(
    sqlite_hub: LiveServer,
    example_dists: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Gov]:
    with httpx.Client(base_url=sqlite_hub.url, timeout=30) as http:
        yield Gov(sqlite_hub, http, example_dists["csv-dedupe:wheel"], tmp_path_factory.mktemp("w"))


def _json(gov: Gov, path: str) -> dict[str, Any]:
    r = gov.http.get(path)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    return r.json()  # type: ignore[no-any-return]


def test_the_project_document_has_what_dependency_bots_read(gov: Gov) -> None:
    ann = gov.token("ann")
    for version in ("1.0.0", "1.10.0", "1.9.0", "2.0rc1"):
        assert gov.publish(ann, "Pypi_Shape", version).status_code == 200
    doc = _json(gov, "/pypi/PYPI.shape/json")
    assert set(doc) == {"info", "last_serial", "releases", "urls", "vulnerabilities"}
    info = doc["info"]
    # The newest final release (PEP 440 order: 1.10.0 after 1.9.0; 2.0rc1 is a pre-release).
    assert info["version"] == "1.10.0" and info["name"] == "Pypi_Shape"  # as published
    assert info["requires_python"] == ">=3.9"
    assert info["requires_dist"] == ["pysetl<2,>=1.2", "pyspark<4,>=3.4"]
    assert info["yanked"] is False and info["yanked_reason"] is None
    base = gov.live.url
    assert info["project_url"] == info["package_url"] == f"{base}/project/pypi-shape/"
    assert info["release_url"] == f"{base}/project/pypi-shape/1.10.0/"
    for key in (
        "summary",
        "description",
        "description_content_type",
        "author",
        "license",
        "home_page",
        "project_urls",
        "classifiers",
    ):
        assert key in info
    assert list(doc["releases"]) == ["1.0.0", "1.9.0", "1.10.0", "2.0rc1"]
    assert isinstance(doc["last_serial"], int) and doc["last_serial"] > 0
    (url,) = doc["urls"]
    assert url == doc["releases"]["1.10.0"][0]
    assert url["packagetype"] == "bdist_wheel" and url["python_version"] == "py3"
    assert url["upload_time_iso_8601"].endswith("Z") and url["yanked"] is False
    assert set(url["digests"]) == {"sha256", "blake2b_256"}
    body = httpx.get(url["url"]).content  # absolute: fetched as given
    assert len(body) == url["size"]
    assert hashlib.sha256(body).hexdigest() == url["digests"]["sha256"]
    assert hashlib.blake2b(body, digest_size=32).hexdigest() == url["digests"]["blake2b_256"]
    assert doc["vulnerabilities"] == []


def test_the_release_document_and_yanks(gov: Gov) -> None:
    ann = gov.token("ann")
    for version in ("1.0.0", "1.1.0"):
        assert gov.publish(ann, "pypi-yank", version).status_code == 200
    r = gov.call("POST", "/api/v1/components/pypi-yank/1.0.0/yank", ann, json={"reason": "broken"})
    assert r.status_code == 200
    doc = _json(gov, "/pypi/pypi-yank/1.0/json")  # 1.0 finds 1.0.0
    assert "releases" not in doc and doc["info"]["version"] == "1.0.0"
    assert doc["info"]["yanked"] is True and doc["info"]["yanked_reason"] == "broken"
    assert [(u["yanked"], u["yanked_reason"]) for u in doc["urls"]] == [(True, "broken")]
    project = _json(gov, "/pypi/pypi-yank/json")
    assert project["info"]["version"] == "1.1.0"
    assert project["releases"]["1.0.0"][0]["yanked"] is True
    for path, code in (
        ("/pypi/nope-nope/json", "component.missing"),
        ("/pypi/pypi-yank/9.9/json", "release.missing"),
        ("/pypi/pypi-yank/not.a.version/json", "release.missing"),
    ):
        r = gov.http.get(path)
        assert r.status_code == 404 and problem(r)["code"] == code


class _ToHub(HTTPAdapter):
    """Sends what pip-audit asks of https://pypi.org to the live hub instead."""

    def __init__(self, hub: str) -> None:
        super().__init__()
        self.hub = hub

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        assert request.url is not None and request.url.startswith("https://pypi.org/")
        request.url = self.hub + request.url[len("https://pypi.org") :]
        return super().send(request, **kwargs)


def _pip_audit_pypi(hub: str, name: str, version: str, cache: Path) -> list[Any]:
    from packaging.version import Version
    from pip_audit._service.interface import ResolvedDependency
    from pip_audit._service.pypi import PyPIService

    service = PyPIService(cache_dir=cache)
    service.session.mount("https://pypi.org/", _ToHub(hub))
    _spec, results = service.query(ResolvedDependency(name=name, version=Version(version)))
    return results


def test_vulnerabilities_follow_the_advisories(gov: Gov, tmp_path: Path) -> None:
    ann = gov.token("ann")
    for version in ("1.0.0", "1.1.0"):
        assert gov.publish(ann, "pypi-vulns", version).status_code == 200
    before = _json(gov, "/pypi/pypi-vulns/1.0.0/json")
    r = gov.call("POST", "/api/v1/components/pypi-vulns/advisories", ann, json=advisory())
    osv_id = r.json()["id"]
    doc = _json(gov, "/pypi/pypi-vulns/1.0.0/json")
    assert doc["last_serial"] > before["last_serial"]
    (vuln,) = doc["vulnerabilities"]
    assert vuln == {
        "id": osv_id,
        "aliases": ["CVE-2026-12345"],
        "summary": "Path traversal in the output writer",
        "details": "Writing to a name with `..` escapes the output directory.",
        "fixed_in": ["1.1.0"],
        "link": f"{gov.live.url}/api/v1/advisories/{osv_id}",
        "source": "pysetl-hub",
        "withdrawn": None,
    }
    assert _json(gov, "/pypi/pypi-vulns/json")["vulnerabilities"] == []  # 1.1.0 is fixed

    found = _pip_audit_pypi(gov.live.url, "pypi-vulns", "1.0.0", tmp_path / "c1")
    assert [(sorted(v.aliases | {v.id}), [str(f) for f in v.fix_versions]) for v in found] == [
        (sorted([osv_id, "CVE-2026-12345"]), ["1.1.0"])
    ]
    assert _pip_audit_pypi(gov.live.url, "pypi-vulns", "1.1.0", tmp_path / "c2") == []

    gov.call("POST", f"/api/v1/advisories/{osv_id}/withdraw", ann, json={})
    assert _json(gov, "/pypi/pypi-vulns/1.0.0/json")["vulnerabilities"] == []
    assert _pip_audit_pypi(gov.live.url, "pypi-vulns", "1.0.0", tmp_path / "c3") == []


def test_project_url_leads_to_the_component_page(gov: Gov) -> None:
    assert gov.publish(gov.token("ann"), "pypi-page").status_code == 200
    for path in ("/project/PyPI_Page/", "/project/pypi-page", "/project/pypi-page/1.0.0/"):
        r = gov.http.get(path)
        assert r.status_code == 303 and r.headers["location"] == "/components/pypi-page", path
    page = gov.http.get("/project/PyPI_Page/", follow_redirects=True)
    assert page.status_code == 200 and "pypi-page" in page.text
    assert page.headers["content-type"].startswith("text/html")
