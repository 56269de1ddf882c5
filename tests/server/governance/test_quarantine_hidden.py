"""A quarantined component is hidden from the public JSON API everywhere it could be named:
its roles, its trusted publishers and the team roles of its organization too, not only its
own page. Those who hold a role on it (and admins) still see them."""

from __future__ import annotations

from tests.server.governance.conftest import Gov
from tests.support.upload import problem


def test_roles_publishers_and_team_roles_of_a_quarantined_component_are_hidden(
    gov: Gov,
) -> None:
    una, stranger = gov.token("qh-una"), gov.token("qh-stranger")
    admin = gov.token("qh-admin", admin=True)
    name = "qh-tool"
    assert gov.publish(una, name).status_code == 200
    publisher = {"kind": "github", "repository": "una/qh-tool", "workflow": "release.yml"}
    added = gov.call("POST", f"/api/v1/components/{name}/publishers", una, json=publisher)
    assert added.status_code == 201, added.text
    assert gov.call("POST", "/api/v1/orgs", una, json={"name": "qhco"}).status_code == 201
    body = {"organization": "qhco"}
    assert (
        gov.call("POST", f"/api/v1/components/{name}/transfer", una, json=body).status_code == 200
    )
    assert gov.call("POST", "/api/v1/orgs/qhco/teams", una, json={"name": "rel"}).status_code == 201
    grant = {"component": name, "role": "maintainer"}
    assert gov.call("PUT", "/api/v1/orgs/qhco/teams/rel/roles", una, json=grant).status_code == 200

    url = f"/api/v1/admin/components/{name}/quarantine"
    assert gov.call("POST", url, admin, json={"reason": "review"}).status_code == 200

    for who in (None, stranger):
        assert gov.call("GET", f"/api/v1/components/{name}/roles", who).status_code == 404
        assert gov.call("GET", f"/api/v1/components/{name}/publishers", who).status_code == 404
        org = gov.call("GET", "/api/v1/orgs/qhco", who).json()
        assert name not in org["components"]
        assert org["teams"] == [{"name": "rel", "members": [], "roles": []}]
    for who in (una, admin):
        roles = gov.call("GET", f"/api/v1/components/{name}/roles", who)
        assert roles.status_code == 200 and roles.json()["component"] == name
        shown = gov.call("GET", f"/api/v1/components/{name}/publishers", who)
        assert shown.status_code == 200 and len(shown.json()["publishers"]) == 1

    assert gov.call("DELETE", url, admin).status_code == 200
    assert gov.call("GET", f"/api/v1/components/{name}/roles", None).status_code == 200
    assert gov.call("GET", f"/api/v1/components/{name}/publishers", None).status_code == 200
    team = gov.call("GET", "/api/v1/orgs/qhco", None).json()["teams"][0]
    assert team["roles"] == [{"component": name, "role": "maintainer"}]


def test_a_quarantined_component_s_files_cannot_be_deleted_by_its_owner(gov: Gov) -> None:
    """Its files are kept for review: the owner under review cannot delete the evidence (the
    rows, or the blobs with them) before an admin has looked."""
    from pysetl_hub_server.storage.blobs import blob_key

    vera, admin = gov.token("qh-vera"), gov.token("qh-admin2", admin=True)
    name = "qh-evidence"
    assert gov.publish(vera, name, "1.0.0").status_code == 200
    assert gov.publish(vera, name, "2.0.0").status_code == 200
    files = gov.call("GET", f"/api/v1/components/{name}/1.0.0", vera).json()["files"]
    filename, sha = files[0]["filename"], files[0]["hashes"]["sha256"]
    url = f"/api/v1/admin/components/{name}/quarantine"
    assert gov.call("POST", url, admin, json={"reason": "malware?"}).status_code == 200

    for path in (
        f"/api/v1/components/{name}/1.0.0/files/{filename}",
        f"/api/v1/components/{name}/2.0.0",
    ):
        r = gov.call("DELETE", path, vera)
        assert r.status_code == 403, r.text
        assert problem(r)["code"] == "component.quarantined"
    assert gov.live.run(lambda hub: hub.blobs.size(blob_key(sha))) is not None
    shown = gov.call("GET", f"/api/v1/components/{name}", vera).json()
    assert shown["versions"] == ["2.0.0", "1.0.0"]

    assert gov.call("DELETE", url, admin).status_code == 200  # released: hers to delete again
    assert gov.call("DELETE", f"/api/v1/components/{name}/2.0.0", vera).status_code == 200


def test_the_owner_of_a_quarantined_component_cannot_take_a_look_alike(gov: Gov) -> None:
    """An owner may hold look-alikes of their own names; not of one under quarantine, or what
    was quarantined would be back at once under a name that reads the same."""
    walt, admin = gov.token("qh-walt"), gov.token("qh-admin3", admin=True)
    assert gov.publish(walt, "qh-malic-tool").status_code == 200
    assert gov.publish(walt, "qh-malic_tool2").status_code == 200  # another name: free
    assert gov.publish(walt, "qh-ma1ic-tool2").status_code == 200  # his own look-alike: his
    url = "/api/v1/admin/components/qh-malic-tool/quarantine"
    assert gov.call("POST", url, admin, json={"reason": "malware"}).status_code == 200
    r = gov.publish(walt, "qh-ma1ic-tool")
    assert r.status_code == 409, r.text
    assert problem(r)["code"] == "name.too_similar"
    publisher = {"kind": "github", "repository": "walt/x", "workflow": "ci.yml"}
    r = gov.call("POST", "/api/v1/components/QH_Malic.T00l/publishers", walt, json=publisher)
    assert r.status_code == 409 and problem(r)["code"] == "name.too_similar"
