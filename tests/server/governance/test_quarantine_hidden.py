"""A quarantined component is hidden from the public JSON API everywhere it could be named:
its roles, its trusted publishers and the team roles of its organization too, not only its
own page. Those who hold a role on it (and admins) still see them."""

from __future__ import annotations

from tests.server.governance.conftest import Gov


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
