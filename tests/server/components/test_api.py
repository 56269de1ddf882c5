"""The marketplace JSON API: listing, detail, compatibility matrix, yanking, errors."""

from __future__ import annotations

from pathlib import Path

import httpx
import msgspec
import pytest

from pysetl_hub_schemas import Component, ComponentPage, Release
from tests.support.dists import repack
from tests.support.live import LiveServer
from tests.support.upload import problem, upload


@pytest.fixture
def token(published_catalog: str) -> str:
    return published_catalog


def test_component_detail(http: httpx.Client, token: str) -> None:
    c = msgspec.json.decode(http.get("/api/v1/components/CSV_Dedupe").content, type=Component)
    assert c.name == "csv-dedupe" and c.latest_version == "1.0.0"
    assert c.owners == ["alice"]
    latest = c.latest
    assert latest is not None
    assert latest.kinds == ["factory"]
    assert [(e.group, e.name, e.value) for e in latest.entry_points] == [
        ("pysetl.factories", "CsvDedupe", "csv_dedupe:CsvDedupe")
    ]
    assert latest.summary and "duplicate rows" in latest.summary
    assert latest.description and "# csv-dedupe" in latest.description
    assert latest.license == "Apache-2.0"
    assert sorted(latest.keywords) == ["csv", "dedupe", "pysetl", "spark"]
    assert latest.project_urls == {"Source": "https://example.org/pysetl/csv-dedupe"}
    assert {f.packagetype for f in latest.files} == {"bdist_wheel", "sdist"}
    assert all(len(f.hashes["sha256"]) == 64 for f in latest.files)


def test_compatibility_matrix(http: httpx.Client, token: str) -> None:
    r = msgspec.json.decode(http.get("/api/v1/components/csv-dedupe/1.0.0").content, type=Release)
    compat = r.compatibility
    assert compat.requires_python == ">=3.9"
    assert compat.pysetl == "<2,>=1.2"
    assert compat.pyspark == "<4,>=3.4"
    pysetl = {p.version: p.compatible for p in compat.pysetl_matrix}
    assert pysetl["1.2.1"] is True and pysetl["1.1.0"] is False
    spark = {p.version: p.compatible for p in compat.spark_matrix}
    assert spark["3.5.7"] is True and spark["4.0.1"] is False and spark["3.3.4"] is False
    python = {p.version: p.compatible for p in compat.python_matrix}
    assert python["3.9"] is True
    pipeline = msgspec.json.decode(
        http.get("/api/v1/components/daily-sales-pipeline/0.3.0").content, type=Release
    )
    assert pipeline.kinds == ["factory", "pipeline"]
    assert {p.version: p.compatible for p in pipeline.compatibility.python_matrix}["3.9"] is False


def test_platforms_are_configurable(
    tmp_path: Path, database_url: str, example_dists: dict[str, Path]
) -> None:
    from pysetl_hub_server.settings import Platforms
    from tests.conftest import start_hub

    server = start_hub(
        tmp_path,
        database_url,
        platforms=Platforms(pysetl=("2.0.0",), python=("3.12",), spark=("3.5.0",)),
    )
    try:
        token = server.user_with_token("alice")
        with httpx.Client(base_url=server.url) as client:
            upload(client, token, example_dists["csv-dedupe:wheel"])
            compat = client.get("/api/v1/components/csv-dedupe/1.0.0").json()["compatibility"]
        assert compat["pysetl_matrix"] == [{"version": "2.0.0", "compatible": False}]
        assert compat["python_matrix"] == [{"version": "3.12", "compatible": True}]
    finally:
        server.stop()


def test_listing_is_paged(http: httpx.Client, token: str) -> None:
    page = msgspec.json.decode(
        http.get("/api/v1/components", params={"per_page": 1}).content, type=ComponentPage
    )
    assert page.total == 2 and [i.name for i in page.items] == ["csv-dedupe"]
    second = http.get("/api/v1/components", params={"per_page": 1, "page": 2}).json()
    assert [i["name"] for i in second["items"]] == ["daily-sales-pipeline"]
    bad = http.get("/api/v1/components", params={"per_page": 1000})
    assert bad.status_code == 400 and problem(bad)["status"] == 400


def test_yank_and_unyank_owners_only(
    live: LiveServer, http: httpx.Client, token: str, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    newer = repack(example_dists["csv-dedupe:wheel"], tmp_path, version="1.1.0")
    upload(http, token, newer)
    mallory = live.user_with_token("mallory")
    r = http.post(
        "/api/v1/components/csv-dedupe/1.1.0/yank",
        json={"reason": "x"},
        headers={"Authorization": f"Bearer {mallory}"},
    )
    assert r.status_code == 403 and problem(r)["code"] == "auth.role"
    r = http.post("/api/v1/components/csv-dedupe/1.1.0/yank", json={"reason": "broken"})
    assert r.status_code == 401
    r = http.post(
        "/api/v1/components/csv-dedupe/1.1.0/yank",
        json={"reason": "broken"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200 and r.json()["yanked"] is True
    detail = http.get("/api/v1/components/csv-dedupe").json()
    assert detail["latest_version"] == "1.0.0"  # a yanked release is not "latest"
    r = http.post(
        "/api/v1/components/csv-dedupe/1.1.0/unyank", headers={"Authorization": f"Bearer {token}"}
    )
    assert r.json()["yanked"] is False
    assert http.get("/api/v1/components/csv-dedupe").json()["latest_version"] == "1.1.0"


def test_yank_body_is_strict(http: httpx.Client, token: str) -> None:
    r = http.post(
        "/api/v1/components/csv-dedupe/1.0.0/yank",
        json={"reasn": "typo"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 400
    problem(r)


@pytest.mark.parametrize("reason", ["bad\x1b[2J", "ok\u202ekO", "two\nlines", "nul\x00"])
def test_a_yank_reason_is_plain_text(http: httpx.Client, token: str, reason: str) -> None:
    r = http.post(
        "/api/v1/components/csv-dedupe/1.0.0/yank",
        json={"reason": reason},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 400 and problem(r)["code"] == "yank.reason", r.text
    assert http.get("/api/v1/components/csv-dedupe/1.0.0").json()["yanked"] is False
    ok = "Broken on Spark 4 \u2014 use 1.1 (\u0645\u0631\u062d\u0628\u0627)\ttab"
    r = http.post(
        "/api/v1/components/csv-dedupe/1.0.0/yank",
        json={"reason": ok},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200 and r.json()["yanked_reason"] == ok


def test_missing_things_are_404_problems(http: httpx.Client, token: str) -> None:
    assert problem(http.get("/api/v1/components/nope"))["code"] == "component.missing"
    r = http.get("/api/v1/components/csv-dedupe/9.9")
    assert r.status_code == 404 and problem(r)["code"] == "release.missing"


def test_health_openapi_and_problem_json(http: httpx.Client) -> None:
    assert http.get("/healthz").json()["status"] == "ok"
    ready = http.get("/readyz").json()
    assert ready["status"] == "ok"  # each part in detail: tests/server/health
    assert ready["checks"] == {"database": "ok", "storage": "ok", "search": "ok"}
    schema = http.get("/schema/openapi.json").json()
    assert schema["openapi"].startswith("3.1")
    assert "/legacy" in schema["paths"] and "/api/v1/components/{name}" in schema["paths"]
    r = http.get("/api/v1/no-such-route")
    assert r.status_code == 404 and problem(r)["title"] == "Not Found"
