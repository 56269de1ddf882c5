"""Deleting a file or a release: rows go, filenames stay burned, the index and search follow at
once, blobs go when nothing references them, the component stays."""

from __future__ import annotations

import time

from tests.server.governance.conftest import Gov
from tests.support.governance import wheel
from tests.support.upload import problem, upload

JSON = {"Accept": "application/vnd.pypi.simple.v1+json"}


def serial(gov: Gov, name: str) -> int:
    r = gov.http.get(f"/simple/{name}/", headers=JSON)
    assert r.status_code == 200, r.text
    return int(r.headers["x-pypi-last-serial"])


def blob_exists(gov: Gov, sha256: str) -> bool:
    from pysetl_hub_server.storage.blobs import blob_key

    return gov.live.run(lambda hub: hub.blobs.size(blob_key(sha256))) is not None


def searchable(gov: Gov, name: str) -> bool:
    hits = gov.http.get("/api/v1/search", params={"q": name}).json()["hits"]
    return any(h["name"] == name for h in hits)


def wait_search(gov: Gov, name: str, present: bool) -> None:
    deadline = time.monotonic() + 10
    while searchable(gov, name) != present:
        assert time.monotonic() < deadline, f"search still shows {name}: {not present}"
        time.sleep(0.05)


def test_delete_a_file_then_the_release(gov: Gov) -> None:
    sam, tia = gov.token("sam"), gov.token("tia")
    name = "del-tool"
    path = wheel(gov.source, gov.out, name, "1.0.0")
    assert upload(gov.http, sam, path).status_code == 200
    assert gov.publish(sam, name, "2.0.0").status_code == 200
    wait_search(gov, name, True)
    files = gov.http.get(f"/simple/{name}/", headers=JSON).json()["files"]
    first = next(f for f in files if f["filename"] == path.name)
    sha, meta_sha = first["hashes"]["sha256"], first["core-metadata"]["sha256"]
    assert gov.http.get(first["url"]).status_code == 200  # served, and now cached in memory
    before = serial(gov, name)

    url = f"/api/v1/components/{name}/1.0.0/files/{path.name}"
    assert gov.call("DELETE", url, tia).status_code == 403  # owners only
    missing = gov.call("DELETE", f"/api/v1/components/{name}/1.0.0/files/nope.whl", sam)
    assert missing.status_code == 404 and problem(missing)["extra"]["files"] == [path.name]
    r = gov.call("DELETE", url, sam)
    assert r.status_code == 200
    assert r.json() == {
        "component": name,
        "version": "1.0.0",
        "filenames": [path.name],
        "release_deleted": True,  # its only file: the release goes with it
    }
    # At once: the index page, its serial, the file URL (even from memory), the blob.
    assert serial(gov, name) > before
    assert gov.http.get(f"/api/v1/components/{name}").json()["versions"] == ["2.0.0"]
    now = gov.http.get(f"/simple/{name}/", headers=JSON).json()
    assert path.name not in [f["filename"] for f in now["files"]] and now["versions"] == ["2.0.0"]
    assert gov.http.get(first["url"]).status_code == 404
    assert not blob_exists(gov, sha) and not blob_exists(gov, meta_sha)
    # The filename is burned forever.
    again = upload(gov.http, sam, path)
    assert again.status_code == 409 and problem(again)["code"] == "file.deleted"

    # The whole release; the last one leaves an empty component, still owned.
    r = gov.call("DELETE", f"/api/v1/components/{name}/2.0.0", sam)
    assert r.status_code == 200 and r.json()["release_deleted"] is True
    detail = gov.http.get(f"/api/v1/components/{name}").json()
    assert detail["versions"] == [] and detail["owners"] == ["sam"]
    assert gov.http.get(f"/api/v1/components/{name}/2.0.0").status_code == 404
    assert gov.http.get(f"/simple/{name}/", headers=JSON).json()["files"] == []
    wait_search(gov, name, False)
    assert gov.publish(sam, name, "3.0.0").status_code == 200  # the owner publishes again
    events = [(a, who, d) for a, who, d in gov.events(name) if a.endswith(".delete")]
    assert [(a, d.get("version")) for a, _, d in events] == [
        ("file.delete", "1.0.0"),
        ("release.delete", "1.0.0"),
        ("release.delete", "2.0.0"),
    ]
    assert {who for _, who, _ in events} == {"sam"} and events[0][2]["filename"] == path.name
