"""The in-memory fast path answers exactly what the framework handlers answer, or stands aside."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from pysetl_hub_server.hotpath import HotPath
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.simple.services import current_serial
from tests.support.live import LiveServer

JSON = "application/vnd.pypi.simple.v1+json"
HTML = "application/vnd.pypi.simple.v1+html"
VOLATILE = {"date", "server", "x-request-id"}  # x-request-id: one per request


def _seen(r: httpx.Response) -> tuple[int, dict[str, str], bytes]:
    headers = {k: v for k, v in r.headers.items() if k not in VOLATILE}
    return r.status_code, headers, r.content


def _scope(path: str, method: str = "GET", **headers: str) -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": b"",
        "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()],
    }


@pytest.fixture
def hot(live: LiveServer) -> HotPath:
    return HotPath(lambda *_: None, live.hub.cache, live.hub.downloads)  # type: ignore[arg-type, return-value]


def settle(live: LiveServer) -> None:
    """Wait until the serial poller has seen the last publish, so it drops no page mid-test."""

    async def latest(hub: Hub) -> int:
        async with hub.sessions() as session:
            return await current_serial(session)

    target = live.run(latest)
    deadline = time.monotonic() + 10
    while live.hub.cache._serial < target:
        assert time.monotonic() < deadline, "the serial poller did not catch up"
        time.sleep(0.01)


def _file_url(http: httpx.Client) -> str:
    url: str = http.get("/simple/csv-dedupe/", headers={"Accept": JSON}).json()["files"][0]["url"]
    return url


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Accept": JSON},
        {"Accept": f"{JSON}, text/html;q=0.1"},
        {"Accept": "text/html"},
        {"Accept": "*/*"},
        {"Accept": HTML},
    ],
)
def test_index_page_same_bytes_and_headers(
    live: LiveServer, http: httpx.Client, published_catalog: str, headers: dict[str, str]
) -> None:
    settle(live)
    live.hub.cache.invalidate("csv-dedupe")
    cold = http.get("/simple/csv-dedupe/", headers=headers)  # rendered by the handler
    assert live.hub.cache.peek("csv-dedupe") is not None
    warm = http.get("/simple/csv-dedupe/", headers=headers)  # answered from memory
    assert cold.status_code == 200
    assert _seen(warm) == _seen(cold)
    etag = cold.headers["etag"]
    live.hub.cache.invalidate("csv-dedupe")
    cold_304 = http.get("/simple/csv-dedupe/", headers={**headers, "If-None-Match": etag})
    warm_304 = http.get("/simple/csv-dedupe/", headers={**headers, "If-None-Match": etag})
    assert cold_304.status_code == 304
    assert _seen(warm_304) == _seen(cold_304)


def test_root_page_same(live: LiveServer, http: httpx.Client, published_catalog: str) -> None:
    live.hub.cache.invalidate("csv-dedupe")  # drops the root page too
    cold = http.get("/simple/", headers={"Accept": JSON})
    warm = http.get("/simple/", headers={"Accept": JSON})
    assert cold.status_code == 200 and _seen(warm) == _seen(cold)


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_file_same_bytes_and_headers(
    live: LiveServer, http: httpx.Client, published_catalog: str, hot: HotPath, method: str
) -> None:
    settle(live)  # a late poll would drop the file from memory between the GETs
    url = _file_url(http)
    live.hub.cache._answers.clear()  # type: ignore[attr-defined]
    assert hot.answer(_scope(url, method), method) is None  # not in memory: the handler answers
    cold = http.request(method, url)
    http.get(url)  # a GET keeps the bytes in memory
    warm = http.request(method, url)
    assert hot.answer(_scope(url, method), method) is not None
    assert cold.status_code == 200 and _seen(warm) == _seen(cold)
    etag = cold.headers["etag"]
    assert http.get(url, headers={"If-None-Match": etag}).status_code == 304


def test_stands_aside_when_unsure(
    live: LiveServer, http: httpx.Client, published_catalog: str, hot: HotPath
) -> None:
    settle(live)
    http.get("/simple/csv-dedupe/")
    url = _file_url(http)
    http.get(url)
    assert hot.answer(_scope("/simple/csv-dedupe/"), "GET") is not None
    assert hot.answer(_scope(url), "GET") is not None
    # Each of these must reach the handlers: a redirect, a 406, a 404,
    # HEAD on a GET-only route, metadata files, paths that are not ours.
    for scope, method in [
        (_scope("/simple/CSV_Dedupe/"), "GET"),
        (_scope("/simple/csv-dedupe/", accept="image/png"), "GET"),
        (_scope("/simple/no-such-thing/", cookie="pysetl_hub_lang=es"), "GET"),
        (_scope("/simple/csv-dedupe/", "HEAD"), "HEAD"),
        (_scope("/simple/csv-dedupe"), "GET"),
        (_scope(url + ".metadata"), "GET"),
        (_scope(url.replace("/files/", "/files/0/")), "GET"),
        (_scope("/api/v1/components/csv-dedupe"), "GET"),
    ]:
        assert hot.answer(scope, method) is None, scope
    assert http.get("/simple/CSV_Dedupe/", follow_redirects=False).status_code == 301
    r = http.get("/simple/csv-dedupe/", headers={"Accept": "image/png"})
    assert r.status_code == 406 and r.headers["content-type"] == "application/problem+json"
    assert http.get("/simple/csv-dedupe/", params={"format": JSON}).headers["content-type"] == JSON


def test_a_change_is_seen_at_once(
    live: LiveServer, http: httpx.Client, published_catalog: str, hot: HotPath
) -> None:
    """Yanking drops the cached page, so the fast path cannot serve the old one."""
    before = http.get("/simple/csv-dedupe/", headers={"Accept": JSON}).json()
    assert before["files"][0]["yanked"] is False
    token = live.user_with_token("alice")
    r = http.post(
        "/api/v1/components/csv-dedupe/1.0.0/yank",
        json={"reason": "broken"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200, r.text
    after = http.get("/simple/csv-dedupe/", headers={"Accept": JSON}).json()
    assert after["files"][0]["yanked"] == "broken"


def test_every_answer_says_nosniff(
    live: LiveServer, http: httpx.Client, published_catalog: str
) -> None:
    """Both paths, every status: a browser never sniffs an uploaded file into a script."""
    url = _file_url(http)
    http.get(url)  # now in memory: the hot path answers it next
    responses = [
        http.get("/simple/csv-dedupe/"),
        http.get("/simple/csv-dedupe/"),
        http.get(url),
        http.head(url),
        http.get(url + ".metadata"),
        http.get(url, headers={"If-None-Match": http.get(url).headers["etag"]}),
        http.get("/simple/no-such-thing/"),
        http.get("/api/v1/components/csv-dedupe"),
        http.post("/legacy/"),
        http.get("/schema/openapi.json"),
    ]
    for r in responses:
        assert r.headers.get_list("x-content-type-options") == ["nosniff"], (r.url, r.status_code)
