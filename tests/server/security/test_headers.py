"""Security headers on every response, whichever layer answered it: the hot path (index pages
and files from memory), the app (the same pages on a cache miss, JSON, problem+json errors)
and the read-only gate."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from pysetl_hub_server.security.headers import secured
from tests.server.security.conftest import StartHub
from tests.support.live import LiveServer
from tests.support.upload import upload

EXPECTED = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "x-frame-options": "DENY",
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
}


def assert_secured(response: httpx.Response) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get_list(name) == [value], (response.url, name, response.headers)
    assert "strict-transport-security" not in response.headers  # plain HTTP: never


@pytest.fixture
def hub(hubs: StartHub, example_dists: dict[str, Path]) -> LiveServer:
    server = hubs()
    token = server.user_with_token("alice")
    with httpx.Client(base_url=server.url, timeout=30) as http:
        assert upload(http, token, example_dists["csv-dedupe:wheel"]).status_code == 200
    return server


def test_every_kind_of_answer_carries_them(hub: LiveServer) -> None:
    with httpx.Client(base_url=hub.url, timeout=30) as http:
        json_page = {"Accept": "application/vnd.pypi.simple.v1+json"}
        index = [http.get("/simple/csv-dedupe/", headers=json_page) for _ in range(2)]  # app, hot
        again = {**json_page, "If-None-Match": index[0].headers["etag"]}
        index.append(http.get("/simple/csv-dedupe/", headers=again))
        url = index[0].json()["files"][0]["url"]
        downloads = [http.get(url) for _ in range(2)] + [http.head(url)]
        answers = [
            *index,
            http.get("/simple/"),
            *downloads,
            http.get(f"{url}.metadata"),
            http.get("/api/v1/components/csv-dedupe"),  # JSON
            http.get("/api/v1/components/nope"),  # problem+json 404
            http.get("/api/v1/me"),  # problem+json 401
            http.post("/legacy/", content=b"x", headers={"Content-Type": "text/plain"}),  # 4xx
            http.get("/healthz"),
            http.get("/schema/openapi.json"),
            http.get("/no/such/route"),
        ]
    statuses = [r.status_code for r in answers]
    assert statuses[:3] == [200, 200, 304] and statuses[4:7] == [200, 200, 200]
    assert 404 in statuses and 401 in statuses
    for response in answers:
        assert_secured(response)


def test_the_read_only_refusal_carries_them(hubs: StartHub) -> None:
    server = hubs(read_only=True)
    with httpx.Client(base_url=server.url, timeout=30) as http:
        response = http.post("/legacy/")
    assert response.status_code == 503
    assert_secured(response)


def test_a_header_the_app_set_is_kept_and_hsts_only_over_tls() -> None:
    mine = [(b"content-security-policy", b"default-src 'self'")]
    out = dict(secured(mine, tls=False))
    assert out[b"content-security-policy"] == b"default-src 'self'"
    assert b"strict-transport-security" not in out
    assert dict(secured([], tls=True))[b"strict-transport-security"] == b"max-age=31536000"
