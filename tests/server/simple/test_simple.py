"""The Simple Repository API (PEP 503/691/592/629/658/700/714) and immutable file URLs."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import httpx
import pytest

from tests.support.live import LiveServer
from tests.support.upload import problem, upload

JSON = "application/vnd.pypi.simple.v1+json"
HTML = "application/vnd.pypi.simple.v1+html"


@pytest.fixture
def published(published_catalog: str) -> str:
    return published_catalog


def test_project_json(http: httpx.Client, published: str, example_dists: dict[str, Path]) -> None:
    r = http.get("/simple/csv-dedupe/", headers={"Accept": JSON})
    assert r.status_code == 200
    assert r.headers["content-type"] == JSON
    body = r.json()
    assert body["meta"]["api-version"] == "1.1"
    assert body["name"] == "csv-dedupe"
    assert body["versions"] == ["1.0.0"]
    wheel, sdist = body["files"]
    data = example_dists["csv-dedupe:wheel"].read_bytes()
    assert wheel["hashes"] == {"sha256": hashlib.sha256(data).hexdigest()}
    assert wheel["size"] == len(data)
    assert wheel["requires-python"] == ">=3.9"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", wheel["upload-time"])
    assert wheel["yanked"] is False
    assert wheel["core-metadata"] == wheel["data-dist-info-metadata"]
    assert set(wheel["core-metadata"]) == {"sha256"}
    assert sdist["core-metadata"] is False
    assert int(r.headers["x-pypi-last-serial"]) == body["meta"]["_last-serial"] > 0


def test_project_html(http: httpx.Client, published: str) -> None:
    r = http.get("/simple/csv-dedupe/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert '<meta name="pypi:repository-version" content="1.1">' in html
    links = re.findall(r"<a ([^>]*)>([^<]*)</a>", html)
    assert [name for _, name in links] == [
        "csv_dedupe-1.0.0-py3-none-any.whl",
        "csv_dedupe-1.0.0.tar.gz",
    ]
    attrs = links[0][0]
    assert 'data-requires-python="&gt;=3.9"' in attrs
    # The hashes are the real ones: of the served file, and of its served PEP 658 metadata.
    href = re.search(r'href="(/files/[0-9a-f]{64}/[^"#]+)#sha256=([0-9a-f]{64})"', attrs)
    assert href is not None
    served = http.get(href.group(1))
    assert hashlib.sha256(served.content).hexdigest() == href.group(2)
    metadata = hashlib.sha256(http.get(href.group(1) + ".metadata").content).hexdigest()
    assert f'data-core-metadata="sha256={metadata}"' in attrs
    assert f'data-dist-info-metadata="sha256={metadata}"' in attrs
    assert (
        http.get("/simple/csv-dedupe/", headers={"Accept": HTML})
        .headers["content-type"]
        .startswith(HTML)
    )


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (f"{JSON}, {HTML};q=0.5", JSON),
        (f"{JSON};q=0.2, text/html", "text/html"),
        ("application/vnd.pypi.simple.latest+json", JSON),
        ("*/*", "text/html"),
    ],
)
def test_content_negotiation(
    http: httpx.Client, published: str, accept: str, expected: str
) -> None:
    r = http.get("/simple/csv-dedupe/", headers={"Accept": accept})
    assert r.headers["content-type"].startswith(expected)
    assert r.headers["vary"] == "Accept"


def test_unacceptable_type_is_406(http: httpx.Client, published: str) -> None:
    r = http.get("/simple/csv-dedupe/", headers={"Accept": "application/xml"})
    assert r.status_code == 406 and problem(r)["code"] == "simple.not_acceptable"


def test_root_index(http: httpx.Client, published: str) -> None:
    body = http.get("/simple/", headers={"Accept": JSON}).json()
    assert [p["name"] for p in body["projects"]] == ["csv-dedupe", "daily-sales-pipeline"]
    html = http.get("/simple/").text
    assert '<a href="/simple/csv-dedupe/">csv-dedupe</a>' in html


def test_non_normalized_name_redirects(http: httpx.Client, published: str) -> None:
    r = http.get("/simple/CSV_Dedupe/", follow_redirects=False)
    assert r.status_code == 301
    assert r.headers["location"] == "/simple/csv-dedupe/"


def test_unknown_project_is_404_problem(http: httpx.Client, published: str) -> None:
    r = http.get("/simple/nope/", headers={"Accept": JSON})
    assert r.status_code == 404 and problem(r)["code"] == "component.missing"


def test_etag_and_304(
    http: httpx.Client,
    published: str,
    live: LiveServer,
    example_dists: dict[str, Path],
    tmp_path: Path,
) -> None:
    first = http.get("/simple/csv-dedupe/", headers={"Accept": JSON})
    etag = first.headers["etag"]
    again = http.get("/simple/csv-dedupe/", headers={"Accept": JSON, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    html_etag = http.get("/simple/csv-dedupe/").headers["etag"]
    assert html_etag != etag
    # A change moves the serial and the ETag.
    from tests.support.dists import repack

    newer = repack(example_dists["csv-dedupe:wheel"], tmp_path, version="1.1.0")
    assert upload(http, published, newer).status_code == 200
    changed = http.get("/simple/csv-dedupe/", headers={"Accept": JSON, "If-None-Match": etag})
    assert changed.status_code == 200
    assert int(changed.headers["x-pypi-last-serial"]) > int(first.headers["x-pypi-last-serial"])
    assert changed.json()["versions"] == ["1.0.0", "1.1.0"]


def test_yanked_files_carry_the_reason(http: httpx.Client, published: str) -> None:
    r = http.post(
        "/api/v1/components/csv-dedupe/1.0.0/yank",
        json={"reason": "data loss bug"},
        headers={"Authorization": f"Bearer {published}"},
    )
    assert r.status_code == 200, r.text
    files = http.get("/simple/csv-dedupe/", headers={"Accept": JSON}).json()["files"]
    assert all(f["yanked"] == "data loss bug" for f in files)
    assert 'data-yanked="data loss bug"' in http.get("/simple/csv-dedupe/").text
    http.post(
        "/api/v1/components/csv-dedupe/1.0.0/unyank",
        headers={"Authorization": f"Bearer {published}"},
    )
    files = http.get("/simple/csv-dedupe/", headers={"Accept": JSON}).json()["files"]
    assert all(f["yanked"] is False for f in files)


def test_files_are_immutable_and_exact(
    http: httpx.Client, published: str, example_dists: dict[str, Path]
) -> None:
    files = http.get("/simple/csv-dedupe/", headers={"Accept": JSON}).json()["files"]
    for f, key in zip(files, ("csv-dedupe:wheel", "csv-dedupe:sdist"), strict=True):
        data = example_dists[key].read_bytes()
        r = http.get(f["url"])
        assert r.status_code == 200 and r.content == data
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert r.headers["content-length"] == str(len(data))
        expected_type = "application/octet-stream" if key.endswith("wheel") else "application/gzip"
        assert r.headers["content-type"] == expected_type
        head = http.head(f["url"])
        assert head.status_code == 200 and head.headers["content-length"] == str(len(data))
        assert head.content == b""
        again = http.get(f["url"], headers={"If-None-Match": r.headers["etag"]})
        assert again.status_code == 304


def test_core_metadata_file(
    http: httpx.Client, published: str, example_dists: dict[str, Path]
) -> None:
    wheel = http.get("/simple/csv-dedupe/", headers={"Accept": JSON}).json()["files"][0]
    r = http.get(wheel["url"] + ".metadata")
    assert r.status_code == 200
    assert hashlib.sha256(r.content).hexdigest() == wheel["core-metadata"]["sha256"]
    assert b"Name: csv-dedupe" in r.content
    sdist = http.get("/simple/csv-dedupe/", headers={"Accept": JSON}).json()["files"][1]
    assert http.get(sdist["url"] + ".metadata").status_code == 404


def test_unknown_file_is_404(http: httpx.Client, published: str) -> None:
    r = http.get("/files/" + "0" * 64 + "/csv_dedupe-1.0.0-py3-none-any.whl")
    assert r.status_code == 404 and problem(r)["code"] == "file.missing"


def test_large_files_stream_from_storage(
    tmp_path: Path, database_url: str, example_dists: dict[str, Path]
) -> None:
    """Files above the memory cap take the streaming path, byte-exact."""
    from tests.conftest import start_hub
    from tests.support.dists import repack

    server = start_hub(tmp_path, database_url, memory_file_max_bytes=10)
    try:
        token = server.user_with_token("alice")

        def payload(m: dict[str, bytes]) -> None:
            m["csv_dedupe/data.bin"] = bytes(range(256)) * 8000

        wheel = repack(example_dists["csv-dedupe:wheel"], tmp_path / "w", mutate=payload)
        with httpx.Client(base_url=server.url) as client:
            url = upload(client, token, wheel).json()["url"]
            r = client.get(url)
            assert r.content == wheel.read_bytes()
            assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    finally:
        server.stop()


def test_replicas_stay_coherent_through_the_database_serial(
    tmp_path: Path, postgres_url: str, example_dists: dict[str, Path]
) -> None:
    """Two servers on one database: a change made through one shows on the other."""
    from tests.conftest import start_hub
    from tests.support.dists import repack

    a = start_hub(tmp_path / "a", postgres_url)
    b = start_hub(tmp_path / "b", postgres_url)
    try:
        token = a.user_with_token("alice")
        with httpx.Client(base_url=a.url) as ca, httpx.Client(base_url=b.url) as cb:
            assert upload(ca, token, example_dists["csv-dedupe:wheel"]).status_code == 200
            import time

            # b learns the new name from the serial it polls (its known names answer misses
            # from memory until then), then renders (and caches) the page.
            deadline = time.monotonic() + 5
            while True:
                first = cb.get("/simple/csv-dedupe/", headers={"Accept": JSON})
                if first.status_code == 200 or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            assert first.json()["versions"] == ["1.0.0"]
            newer = repack(example_dists["csv-dedupe:wheel"], tmp_path / "n", version="1.1.0")
            assert upload(ca, token, newer).status_code == 200

            deadline = time.monotonic() + 5
            while True:
                versions = cb.get("/simple/csv-dedupe/", headers={"Accept": JSON}).json()[
                    "versions"
                ]
                if versions == ["1.0.0", "1.1.0"] or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            assert versions == ["1.0.0", "1.1.0"]
    finally:
        a.stop()
        b.stop()


test_replicas_stay_coherent_through_the_database_serial = pytest.mark.postgres(
    test_replicas_stay_coherent_through_the_database_serial
)
