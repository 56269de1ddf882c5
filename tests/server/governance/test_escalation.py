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


def test_an_invitation_dies_with_its_sender_s_authority(gov: Gov) -> None:
    cy, dee, eve = gov.token("esc-cy"), gov.token("esc-dee"), gov.token("esc-eve")
    assert gov.publish(cy, "cy-tool").status_code == 200
    accept(gov, dee, invite(gov, cy, "cy-tool", "esc-dee", "owner"))
    # dee, an owner for now, invites an account of hers; then cy removes her.
    pending = invite(gov, dee, "cy-tool", "esc-eve", "owner")
    assert gov.call("DELETE", "/api/v1/components/cy-tool/roles/esc-dee", cy).status_code == 200
    late = gov.call("POST", f"/api/v1/invitations/{pending}/accept", eve)
    assert late.status_code == 409, late.text
    assert problem(late)["code"] == "invitation.stale"
    mine = gov.call("GET", "/api/v1/invitations", eve).json()["invitations"]
    assert [i["status"] for i in mine if i["id"] == pending] == ["revoked"]
    roles = gov.call("GET", "/api/v1/components/cy-tool/roles", None).json()["roles"]
    assert [r["username"] for r in roles] == ["esc-cy"]
    # An invitation from a current owner still works.
    accept(gov, eve, invite(gov, cy, "cy-tool", "esc-eve", "maintainer"))

    # The same for organizations: a removed owner's invitations go with them.
    fay, gus, hal = gov.token("esc-fay"), gov.token("esc-gus"), gov.token("esc-hal")
    assert gov.call("POST", "/api/v1/orgs", fay, json={"name": "fayco"}).status_code == 201
    join(gov, fay, "fayco", "esc-gus", gus, role="owner")
    sent = gov.call(
        "POST", "/api/v1/orgs/fayco/members", gus, json={"username": "esc-hal", "role": "owner"}
    )
    assert sent.status_code == 201
    assert gov.call("DELETE", "/api/v1/orgs/fayco/members/esc-gus", fay).status_code == 200
    late = gov.call("POST", f"/api/v1/invitations/{sent.json()['id']}/accept", hal)
    assert late.status_code == 409 and problem(late)["code"] == "invitation.stale"
    members = gov.call("GET", "/api/v1/orgs/fayco", None).json()["members"]
    assert members == [{"username": "esc-fay", "role": "owner"}]


def test_giving_up_a_role_takes_a_token_that_may_manage(gov: Gov) -> None:
    jo, kay = gov.token("esc-jo"), gov.token("esc-kay")
    assert gov.publish(jo, "jo-tool").status_code == 200
    accept(gov, kay, invite(gov, jo, "jo-tool", "esc-kay", "maintainer"))
    upload_only = gov.token("esc-kay", actions=["upload"])
    refused = gov.call("DELETE", "/api/v1/components/jo-tool/roles/esc-kay", upload_only)
    assert refused.status_code == 403 and problem(refused)["code"] == "auth.token_action"
    scoped = gov.token("esc-kay", components=["jo-tool"])
    assert gov.call("DELETE", "/api/v1/components/jo-tool/roles/esc-kay", scoped).status_code == 200


def test_a_reserved_prefix_covers_its_look_alikes(gov: Gov) -> None:
    """`globex` reserved: `GIobex-x` (a capital I), `gl0bex-x` or `glo_bex-x` read as `globex-x`
    and are refused as it is; a name that only starts with the same letters is not covered."""
    owner, outsider = gov.token("esc-gl-owner"), gov.token("esc-gl-out")
    admin = gov.token("esc-gl-admin", admin=True)
    assert gov.call("POST", "/api/v1/orgs", owner, json={"name": "globex"}).status_code == 201
    body = {"prefix": "globex", "organization": "globex"}
    assert gov.call("POST", "/api/v1/admin/prefixes", admin, json=body).status_code == 201
    for name in ("globex-tool", "GIobex-tool", "gl0bex-tool", "g1obex_tool", "glo-bex-tool"):
        r = gov.publish(outsider, name)
        assert r.status_code == 403, (name, r.text)
        assert problem(r)["code"] == "name.reserved", name
        publisher = {"kind": "github", "repository": "out/x", "workflow": "ci.yml"}
        r = gov.call("POST", f"/api/v1/components/{name}/publishers", outsider, json=publisher)
        assert r.status_code == 403 and problem(r)["code"] == "name.reserved", name
    assert gov.publish(outsider, "globexish-tool").status_code == 200
    assert gov.publish(owner, "gl0bex-tool").status_code == 200  # a member may
