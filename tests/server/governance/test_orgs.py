"""Organizations: members by invitation, teams of members, team roles on the organization's
components, transfer (owner of both), the last owner, and reserved name prefixes."""

from __future__ import annotations

from typing import Any

from tests.server.governance.conftest import Gov
from tests.support.upload import problem


def join(gov: Gov, owner: str, org: str, username: str, token: str, role: str = "member") -> None:
    body = {"username": username, "role": role}
    sent = gov.call("POST", f"/api/v1/orgs/{org}/members", owner, json=body)
    assert sent.status_code == 201, sent.text
    assert sent.json()["organization"] == org and sent.json()["component"] is None
    accepted = gov.call("POST", f"/api/v1/invitations/{sent.json()['id']}/accept", token)
    assert accepted.status_code == 200, accepted.text


def show(gov: Gov, org: str) -> dict[str, Any]:
    r = gov.call("GET", f"/api/v1/orgs/{org}", None)
    assert r.status_code == 200, r.text
    assert "@" not in r.text
    return r.json()  # type: ignore[no-any-return]


def test_an_organization_with_members_and_teams(gov: Gov) -> None:
    kim, lee, max_ = gov.token("kim"), gov.token("lee"), gov.token("max")
    created = gov.call("POST", "/api/v1/orgs", kim, json={"name": "Kim-Co"})
    assert created.status_code == 201
    assert created.json()["name"] == "kim-co" and created.json()["display_name"] == "Kim-Co"
    assert created.json()["members"] == [{"username": "kim", "role": "owner"}]
    again = gov.call("POST", "/api/v1/orgs", lee, json={"name": "kim_co"})
    assert again.status_code == 409 and problem(again)["code"] == "org.exists"

    # Only an owner invites; a member joins by accepting.
    refused = gov.call(
        "POST", "/api/v1/orgs/kim-co/members", lee, json={"username": "lee", "role": "owner"}
    )
    assert refused.status_code == 403 and problem(refused)["code"] == "auth.role"
    assert "(kim)" in problem(refused)["detail"]
    join(gov, kim, "kim-co", "lee", lee)
    # A team holds members only.
    assert (
        gov.call("POST", "/api/v1/orgs/kim-co/teams", kim, json={"name": "core"}).status_code == 201
    )
    outsider = gov.call(
        "POST", "/api/v1/orgs/kim-co/teams/core/members", kim, json={"username": "max"}
    )
    assert outsider.status_code == 409 and problem(outsider)["code"] == "team.not_member"
    added = gov.call(
        "POST", "/api/v1/orgs/kim-co/teams/core/members", kim, json={"username": "lee"}
    )
    assert added.status_code == 200
    assert show(gov, "kim-co")["teams"] == [{"name": "core", "members": ["lee"], "roles": []}]

    # A team gets a role only on a component of the organization.
    assert gov.publish(kim, "kimco-tool").status_code == 200
    grant = {"component": "kimco-tool", "role": "maintainer"}
    foreign = gov.call("PUT", "/api/v1/orgs/kim-co/teams/core/roles", kim, json=grant)
    assert foreign.status_code == 409 and problem(foreign)["code"] == "team.foreign_component"
    moved = gov.call(
        "POST", "/api/v1/components/kimco-tool/transfer", kim, json={"organization": "kim-co"}
    )
    assert moved.status_code == 200 and moved.json()["components"] == ["kimco-tool"]
    assert (
        gov.call("PUT", "/api/v1/orgs/kim-co/teams/core/roles", kim, json=grant).status_code == 200
    )
    # lee, in the team, may now upload; max, outside, may not.
    assert gov.publish(lee, "kimco-tool", "1.1.0").status_code == 200
    assert gov.publish(max_, "kimco-tool", "1.2.0").status_code == 403
    component = gov.call("GET", "/api/v1/components/kimco-tool", None).json()
    assert component["organization"] == "kim-co"
    assert "component.transfer" in [a for a, _, _ in gov.events("kimco-tool")]

    # Leaving the organization leaves its teams too; the last owner stays.
    assert gov.call("DELETE", "/api/v1/orgs/kim-co/members/lee", lee).status_code == 200
    assert show(gov, "kim-co")["teams"][0]["members"] == []
    assert gov.publish(lee, "kimco-tool", "1.3.0").status_code == 403
    last = gov.call("DELETE", "/api/v1/orgs/kim-co/members/kim", kim)
    assert last.status_code == 409 and problem(last)["code"] == "org.last_owner"
    assert "add another owner first" in problem(last)["detail"]
    team_role = gov.call("DELETE", "/api/v1/orgs/kim-co/teams/core/roles/kimco-tool", kim)
    assert team_role.status_code == 200 and show(gov, "kim-co")["teams"][0]["roles"] == []


def test_transfer_takes_an_owner_of_both(gov: Gov) -> None:
    ned, oli = gov.token("ned"), gov.token("oli")
    assert gov.publish(ned, "ned-tool").status_code == 200
    assert gov.call("POST", "/api/v1/orgs", oli, json={"name": "olicorp"}).status_code == 201
    body = {"organization": "olicorp"}
    # The component's owner who does not own the organization...
    not_org = gov.call("POST", "/api/v1/components/ned-tool/transfer", ned, json=body)
    assert not_org.status_code == 403
    assert "needs the owner role in the organization 'olicorp'" in problem(not_org)["detail"]
    # ...and the organization's owner who does not own the component are both refused.
    not_owner = gov.call("POST", "/api/v1/components/ned-tool/transfer", oli, json=body)
    assert not_owner.status_code == 403 and problem(not_owner)["extra"]["needed_role"] == "owner"
    join(gov, oli, "olicorp", "ned", ned, role="member")
    member = gov.call("POST", "/api/v1/components/ned-tool/transfer", ned, json=body)
    assert member.status_code == 403 and "'ned' is a member" in problem(member)["detail"]
    missing = gov.call(
        "POST", "/api/v1/components/ned-tool/transfer", ned, json={"organization": "nope"}
    )
    assert missing.status_code == 404 and problem(missing)["code"] == "org.missing"


def test_a_reserved_prefix_is_for_the_organization_s_members(gov: Gov) -> None:
    """Both ways of creating a component (first upload, publisher reservation) obey it."""
    pat, quin, root = gov.token("pat"), gov.token("quin"), gov.token("root", admin=True)
    assert gov.call("POST", "/api/v1/orgs", pat, json={"name": "acme"}).status_code == 201
    body = {"prefix": "acme", "organization": "acme"}
    refused = gov.call("POST", "/api/v1/admin/prefixes", pat, json=body)
    assert refused.status_code == 403 and problem(refused)["code"] == "auth.admin"
    reserved = gov.call("POST", "/api/v1/admin/prefixes", root, json=body)
    assert reserved.status_code == 201
    assert reserved.json() == {"prefix": "acme", "organization": "acme"}
    assert show(gov, "acme")["prefixes"] == ["acme"]

    upload = gov.publish(quin, "acme-loader")
    assert upload.status_code == 403 and problem(upload)["code"] == "name.reserved"
    assert "reserved for the organization 'acme'" in problem(upload)["detail"]
    publisher = {"kind": "github", "repository": "quin/acme", "workflow": "ci.yml"}
    reserve = gov.call("POST", "/api/v1/components/acme-etl/publishers", quin, json=publisher)
    assert reserve.status_code == 403 and problem(reserve)["code"] == "name.reserved"
    assert gov.publish(quin, "acmeish-loader").status_code == 200  # another prefix: free
    # A member of acme may take both.
    join(gov, pat, "acme", "quin", quin)
    assert gov.publish(quin, "acme-loader").status_code == 200
    reserve = gov.call("POST", "/api/v1/components/acme-etl/publishers", quin, json=publisher)
    assert reserve.status_code == 201
    # Another organization cannot take the prefix over.
    assert gov.call("POST", "/api/v1/orgs", root, json={"name": "acme2"}).status_code == 201
    taken = gov.call(
        "POST", "/api/v1/admin/prefixes", root, json={"prefix": "acme", "organization": "acme2"}
    )
    assert taken.status_code == 409 and problem(taken)["code"] == "prefix.taken"


def test_account_actions_need_a_user_wide_managing_token(gov: Gov) -> None:
    rob = gov.token("rob")
    assert gov.publish(rob, "rob-tool").status_code == 200
    scoped = gov.token("rob", components=["rob-tool"])
    upload_only = gov.token("rob", actions=["upload"])
    r = gov.call("POST", "/api/v1/orgs", scoped, json={"name": "robcorp"})
    assert r.status_code == 403 and problem(r)["code"] == "auth.scope"
    r = gov.call("POST", "/api/v1/orgs", upload_only, json={"name": "robcorp"})
    assert r.status_code == 403 and problem(r)["code"] == "auth.token_action"
    assert gov.call("GET", "/api/v1/invitations", None).status_code == 401
    assert gov.call("GET", "/api/v1/orgs/no-such-org", None).status_code == 404


def test_an_organization_name_is_not_a_look_alike_nor_prohibited(gov: Gov) -> None:
    """Organizations speak for their members and hold prefixes: `G1obex` beside `globex`
    would pass for it, as a component's look-alike would."""
    una, vic = gov.token("una"), gov.token("vic")
    admin = gov.token("root-orgs", admin=True)
    assert gov.call("POST", "/api/v1/orgs", una, json={"name": "globex"}).status_code == 201
    for look_alike in ("G1obex", "gl0bex", "glo_bex", "GLO.BEX"):
        r = gov.call("POST", "/api/v1/orgs", vic, json={"name": look_alike})
        assert r.status_code == 409 and problem(r)["code"] == "org.too_similar", r.text
    body = {"name": "initech", "reason": "trademark"}
    assert gov.call("POST", "/api/v1/admin/prohibited-names", admin, json=body).status_code == 201
    for name in ("initech", "In1tech"):
        r = gov.call("POST", "/api/v1/orgs", vic, json={"name": name})
        assert r.status_code == 403 and problem(r)["code"] == "name.prohibited", r.text
    # a clearly different name is fine
    assert gov.call("POST", "/api/v1/orgs", vic, json={"name": "vicorp"}).status_code == 201
