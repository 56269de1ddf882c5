"""A signed release end to end on the server: publishers, upload, and every place provenance
shows (integrity API, PEP 691 JSON, PEP 503 HTML, JSON API, search), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from sqlalchemy import select

from pysetl_hub_server.db.models import AuditEvent
from pysetl_hub_server.hub import Hub
from tests.server.provenance.test_uploads import HONEST, PUBLISHER, add_publisher, signed_upload
from tests.support.live import LiveServer
from tests.support.sigstore_instance import SigstoreInstance
from tests.support.upload import problem, upload

JSON = "application/vnd.pypi.simple.v1+json"


def test_signed_release_is_served_with_its_provenance(
    live: LiveServer, http: httpx.Client, sigstore: SigstoreInstance,
    example_dists: dict[str, Path],
) -> None:  # fmt: skip
    token = live.user_with_token("alice")
    # A publisher for a name nobody published yet reserves it: the first upload is signed.
    r = add_publisher(http, token, "csv-dedupe", PUBLISHER)
    assert r.status_code == 201, r.text
    assert r.json()["publishers"][0]["spec"] == "github:acme/csv-dedupe/release.yml"
    wheel, sdist = example_dists["csv-dedupe:wheel"], example_dists["csv-dedupe:sdist"]
    attestation = sigstore.attest(wheel, HONEST)
    assert signed_upload(http, token, wheel, [attestation]).status_code == 200

    url = f"/integrity/csv-dedupe/1.0.0/{wheel.name}/provenance"
    r = http.get(url)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    provenance = r.json()
    assert provenance["version"] == 1
    (bundle,) = provenance["attestation_bundles"]
    assert bundle["publisher"] == {
        "kind": "GitHub", "repository": "acme/csv-dedupe", "workflow": "release.yml",
        "environment": None,
    }  # fmt: skip
    assert bundle["attestations"] == [attestation]

    page = http.get("/simple/csv-dedupe/", headers={"Accept": JSON}).json()
    assert [f["provenance"] for f in page["files"]] == [url]
    html = http.get("/simple/csv-dedupe/", headers={"Accept": "text/html"}).text
    assert f'data-provenance="{url}"' in html

    component = http.get("/api/v1/components/csv-dedupe").json()
    (file,) = component["latest"]["files"]
    assert file["signer"]["repository"] == "acme/csv-dedupe"
    assert file["signer"]["workflow"] == "release.yml" and file["provenance"] == url
    assert component["verified"] is True

    # An unsigned sdist in the same release: the release is no longer fully attested.
    assert upload(http, token, sdist).status_code == 200
    component = http.get("/api/v1/components/csv-dedupe").json()
    assert component["verified"] is False
    unsigned = next(f for f in component["latest"]["files"] if f["filename"] == sdist.name)
    assert unsigned["signer"] is None and unsigned["provenance"] is None
    missing = http.get(f"/integrity/csv-dedupe/1.0.0/{sdist.name}/provenance")
    assert problem(missing)["code"] == "provenance.missing"
    assert problem(http.get("/integrity/csv-dedupe/1.0.0/nope.whl/provenance"))["status"] == 404
    page = http.get("/simple/csv-dedupe/", headers={"Accept": JSON}).json()
    assert {f["filename"]: f["provenance"] for f in page["files"]} == {
        wheel.name: url,
        sdist.name: None,
    }


def test_search_marks_fully_attested_components_verified(
    live: LiveServer, http: httpx.Client, sigstore: SigstoreInstance,
    example_dists: dict[str, Path],
) -> None:  # fmt: skip
    token = live.user_with_token("alice")
    assert add_publisher(http, token, "csv-dedupe", PUBLISHER).status_code == 201
    wheel = example_dists["csv-dedupe:wheel"]
    assert signed_upload(http, token, wheel, [sigstore.attest(wheel, HONEST)]).status_code == 200
    assert upload(http, token, example_dists["daily-sales-pipeline:wheel"]).status_code == 200
    import time

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        hits = {h["name"]: h["verified"] for h in http.get("/api/v1/search?q=").json()["hits"]}
        if len(hits) == 2:
            break
        time.sleep(0.1)
    assert hits == {"csv-dedupe": True, "daily-sales-pipeline": False}


def test_publishers_api_is_owner_only_validated_and_audited(
    live: LiveServer, http: httpx.Client, example_dists: dict[str, Path]
) -> None:
    alice, bob = live.user_with_token("alice"), live.user_with_token("bob")
    assert upload(http, alice, example_dists["csv-dedupe:wheel"]).status_code == 200

    assert http.post("/api/v1/components/csv-dedupe/publishers", json=PUBLISHER).status_code == 401
    assert problem(add_publisher(http, bob, "csv-dedupe", PUBLISHER))["code"] == "auth.role"
    bad = {"kind": "github", "repository": "acme"}
    assert problem(add_publisher(http, alice, "csv-dedupe", bad))["code"] == "publisher.invalid"
    unknown = {"kind": "github", "repository": "a/b", "workflow": "w.yml", "extra": 1}
    assert add_publisher(http, alice, "csv-dedupe", unknown).status_code == 400

    r = add_publisher(http, alice, "csv-dedupe", PUBLISHER)
    assert r.status_code == 201
    assert (
        problem(add_publisher(http, alice, "csv-dedupe", PUBLISHER))["code"] == "publisher.exists"
    )
    email = {"kind": "sigstore", "identity": "alice@example.test", "issuer": "https://id.test"}
    listing = add_publisher(http, alice, "csv-dedupe", email).json()
    assert [p["spec"] for p in listing["publishers"]] == [
        "github:acme/csv-dedupe/release.yml",
        "sigstore:alice@example.test (issuer https://id.test)",
    ]
    # Public read: installers check signatures against it.
    assert http.get("/api/v1/components/csv-dedupe/publishers").json() == listing

    auth = {"Authorization": f"Bearer {bob}"}
    first = listing["publishers"][0]["id"]
    r = http.delete(f"/api/v1/components/csv-dedupe/publishers/{first}", headers=auth)
    assert problem(r)["code"] == "auth.role"
    r = http.patch(
        "/api/v1/components/csv-dedupe", json={"require_attestations": True}, headers=auth
    )
    assert problem(r)["code"] == "auth.role"

    auth = {"Authorization": f"Bearer {alice}"}
    r = http.delete(f"/api/v1/components/csv-dedupe/publishers/{first}", headers=auth)
    assert r.status_code == 200 and len(r.json()["publishers"]) == 1
    r = http.delete(f"/api/v1/components/csv-dedupe/publishers/{first}", headers=auth)
    assert problem(r)["code"] == "publisher.missing"
    r = http.patch(
        "/api/v1/components/csv-dedupe", json={"require_attestations": True}, headers=auth
    )
    assert r.json()["require_attestations"] is True

    async def actions(hub: Hub) -> list[tuple[str, dict[str, object]]]:
        async with hub.sessions() as s:
            rows = await s.scalars(select(AuditEvent).order_by(AuditEvent.id))
            return [(e.action, e.detail) for e in rows if not e.action.startswith(("file", "rel"))]

    assert live.run(actions)[-4:] == [
        ("publisher.add", {"publisher": "github:acme/csv-dedupe/release.yml"}),
        ("publisher.add", {"publisher": "sigstore:alice@example.test (issuer https://id.test)"}),
        ("publisher.remove", {"publisher": "github:acme/csv-dedupe/release.yml"}),
        ("component.settings", {"require_attestations": True}),
    ]


def test_requiring_attestations_needs_a_publisher(
    live: LiveServer, http: httpx.Client, example_dists: dict[str, Path]
) -> None:
    alice = live.user_with_token("alice")
    assert upload(http, alice, example_dists["csv-dedupe:wheel"]).status_code == 200
    r = http.patch(
        "/api/v1/components/csv-dedupe",
        json={"require_attestations": True},
        headers={"Authorization": f"Bearer {alice}"},
    )
    assert problem(r)["code"] == "publisher.none"
    assert (
        json.loads(http.get("/api/v1/components/csv-dedupe").text)["require_attestations"] is False
    )
