"""Every client-chosen size has a bound, and past it a 4xx problem: never a 500.

Each case was a 500 before (an int too large for the database, Python's 4300-digit limit,
an SQL expression too deep).
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from pysetl_hub_server.bounds import MAX_KEYWORD_FILTERS, MAX_PAGE, MAX_VERSION
from tests.support.live import LiveServer
from tests.support.upload import problem, upload

HUGE = "9" * 5000
CASES = [
    ("/api/v1/search", {"python": "3." + "1" * 4301}, 400, "search.version"),
    ("/api/v1/search", {"spark": "3." + "5" * (MAX_VERSION)}, 400, "search.version"),
    ("/api/v1/search", {"page": "99999999999999999999"}, 400, "http.400"),
    ("/api/v1/search", {"page": str(MAX_PAGE + 1)}, 400, "http.400"),
    ("/api/v1/search", {"per_page": "100000"}, 400, "http.400"),
    ("/api/v1/search", {"keyword": [f"k{i}" for i in range(999)]}, 400, "search.keywords"),
    ("/api/v1/search", {"license": "x" * 5000}, 400, "search.license"),
    ("/api/v1/components/", {"page": "99999999999999999999"}, 400, "http.400"),
    (f"/api/v1/components/csv-dedupe/{HUGE}", {}, 404, "release.missing"),
    (f"/integrity/csv-dedupe/{HUGE}/csv_dedupe-1.0.0-py3-none-any.whl/provenance", {}, 404, None),
    (f"/simple/{'a' * 5000}/", {}, 404, "component.missing"),
]


@pytest.mark.parametrize(("path", "params", "status", "code"), CASES)
def test_bounded_parameters(
    http: httpx.Client,
    published_catalog: str,
    path: str,
    params: dict[str, object],
    status: int,
    code: str | None,
) -> None:
    r = http.get(path, params=params)  # type: ignore[arg-type]
    assert r.status_code == status, r.text[:300]
    body = problem(r)
    if code is not None:
        assert body["code"] == code, body


def test_within_the_bounds_is_answered(http: httpx.Client, published_catalog: str) -> None:
    keywords = [f"k{i}" for i in range(MAX_KEYWORD_FILTERS)]
    assert http.get("/api/v1/search", params={"keyword": keywords}).status_code == 200
    assert http.get("/api/v1/search", params={"page": MAX_PAGE}).json()["hits"] == []


@pytest.mark.parametrize(
    ("filename", "version", "code"),
    [
        (f"csv_dedupe-{HUGE}-py3-none-any.whl", "1.0.0", "filename.too_long"),
        (f"csv_dedupe-1.{'0' * 100}-py3-none-any.whl", "1.0.0", "version.too_long"),
        ("csv_dedupe-1.0.0-py3-none-any.whl", HUGE, "version.invalid"),
        # 1.0.00 is 1.0.0 in PEP 440: a look-alike name for the real file is refused too.
        ("csv_dedupe-1.0.00-py3-none-any.whl", "1.0.0", "filename.version_not_normalized"),
    ],
)
def test_upload_versions_and_filenames_are_bounded(
    live: LiveServer,
    http: httpx.Client,
    example_dists: dict[str, Path],
    filename: str,
    version: str,
    code: str,
) -> None:
    token = live.user_with_token("alice")
    r = upload(http, token, example_dists["csv-dedupe:wheel"], filename=filename, version=version)
    assert r.status_code == 400, r.text[:300]
    assert problem(r)["code"] == code
