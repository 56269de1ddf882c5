"""Attacks on roles and organizations by users with some power, each refused over HTTP: moving
a component out of an organization one does not own, accepting an invitation whose sender has
since lost the power to send it, giving up a role with a token that may only upload."""

from __future__ import annotations

from tests.server.governance.conftest import Gov
from tests.server.governance.test_orgs import join
from tests.support.upload import problem


def invite(gov: Gov, owner: str, name: str, username: str, role: str) -> int:
    r = gov.call(
        "POST", f"/api/v1/components/{name}/roles", owner, json={"username": username, "role": role}
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def accept(gov: Gov, token: str, invitation: int) -> None:
    r = gov.call("POST", f"/api/v1/invitations/{invitation}/accept", token)
    assert r.status_code == 200, r.text


def test_a_team_owner_cannot_move_the_component_out_of_its_organization(gov: Gov) -> None:
    ann, bo = gov.token("esc-ann"), gov.token("esc-bo")
    assert gov.call("POST", "/api/v1/orgs", ann, json={"name": "annco"}).status_code == 201
    assert gov.publish(ann, "annco-lib").status_code == 200
    body = {"organization": "annco"}
    assert (
        gov.call("POST", "/api/v1/components/annco-lib/transfer", ann, json=body).status_code == 200
    )
    # ann removes her direct role: the organization is now the component's only owner.
    assert gov.call("DELETE", "/api/v1/components/annco-lib/roles/esc-ann", ann).status_code == 200
    join(gov, ann, "annco", "esc-bo", bo)
    assert (
        gov.call("POST", "/api/v1/orgs/annco/teams", ann, json={"name": "rel"}).status_code == 201
    )
    added = gov.call(
        "POST", "/api/v1/orgs/annco/teams/rel/members", ann, json={"username": "esc-bo"}
    )
    assert added.status_code == 200
    grant = {"component": "annco-lib", "role": "owner"}
    assert gov.call("PUT", "/api/v1/orgs/annco/teams/rel/roles", ann, json=grant).status_code == 200

    # bo owns the component through his team, and owns an organization of his own: moving the
    # component there would take it from annco's owners (and its reserved prefix with it).
    assert gov.call("POST", "/api/v1/orgs", bo, json={"name": "boco"}).status_code == 201
    stolen = gov.call(
        "POST", "/api/v1/components/annco-lib/transfer", bo, json={"organization": "boco"}
    )
    assert stolen.status_code == 403, stolen.text
    assert problem(stolen)["code"] == "auth.role"
    assert "organization 'annco'" in problem(stolen)["detail"]
    shown = gov.call("GET", "/api/v1/components/annco-lib", None).json()
    assert shown["organization"] == "annco"

    # An owner of both organizations may move it.
    assert gov.call("POST", "/api/v1/orgs", ann, json={"name": "annco2"}).status_code == 201
    moved = gov.call(
        "POST", "/api/v1/components/annco-lib/transfer", ann, json={"organization": "annco2"}
    )
    assert moved.status_code == 200, moved.text
