"""Roles by invitation only: invite, accept, decline, revoke, expire; remove and leave; the last
owner stays."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import delete, update

from pysetl_hub_server.db import models
from pysetl_hub_server.errors import Conflict, Forbidden, NotFound
from pysetl_hub_server.governance import roles
from pysetl_hub_server.hub import Hub
from tests.server.governance.conftest import Gov, People
from tests.support.governance import bearer
from tests.support.upload import problem


def roles_of(gov: Gov, name: str) -> set[tuple[str, str]]:
    r = gov.http.get(f"/api/v1/components/{name}/roles")
    assert r.status_code == 200, r.text
    assert "@" not in r.text  # usernames and roles, never e-mail addresses
    return {(e["username"], e["role"]) for e in r.json()["roles"]}


def invite(gov: Gov, token: str, name: str, username: str, role: str) -> dict:  # type: ignore[type-arg]
    r = gov.call(
        "POST", f"/api/v1/components/{name}/roles", token, json={"username": username, "role": role}
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def test_an_invitation_is_the_way_to_a_role(gov: Gov) -> None:
    ann, ben = gov.token("ann"), gov.token("ben")
    assert gov.publish(ann, "role-flow").status_code == 200
    sent = invite(gov, ann, "role-flow", "ben", "maintainer")
    assert sent["status"] == "pending" and sent["inviter"] == "ann" and sent["invitee"] == "ben"
    expires = datetime.fromisoformat(sent["expires"])
    assert timedelta(days=6, hours=23) < expires - datetime.now(UTC) <= timedelta(days=7)
    assert roles_of(gov, "role-flow") == {("ann", "owner")}  # nothing until accepted

    mine = gov.call("GET", "/api/v1/invitations", ben).json()["invitations"]
    assert [(i["id"], i["component"], i["role"]) for i in mine] == [
        (sent["id"], "role-flow", "maintainer")
    ]
    assert gov.call("GET", "/api/v1/invitations", ann).json()["invitations"] == []
    # Only the invitee answers it; to anyone else it does not exist.
    other = gov.call("POST", f"/api/v1/invitations/{sent['id']}/accept", ann)
    assert other.status_code == 404 and problem(other)["code"] == "invitation.missing"
    accepted = gov.call("POST", f"/api/v1/invitations/{sent['id']}/accept", ben)
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert roles_of(gov, "role-flow") == {("ann", "owner"), ("ben", "maintainer")}
    again = gov.call("POST", f"/api/v1/invitations/{sent['id']}/accept", ben)
    assert again.status_code == 409 and problem(again)["code"] == "invitation.closed"

    # A maintainer becomes an owner by invitation too, never by decree.
    dup = gov.call(
        "POST",
        "/api/v1/components/role-flow/roles",
        ann,
        json={"username": "ben", "role": "maintainer"},
    )
    assert dup.status_code == 409 and problem(dup)["code"] == "role.exists"
    promote = invite(gov, ann, "role-flow", "ben", "owner")
    twice = gov.call(
        "POST", "/api/v1/components/role-flow/roles", ann, json={"username": "ben", "role": "owner"}
    )
    assert twice.status_code == 409 and problem(twice)["code"] == "invitation.exists"
    assert gov.call("POST", f"/api/v1/invitations/{promote['id']}/accept", ben).status_code == 200
    assert roles_of(gov, "role-flow") == {("ann", "owner"), ("ben", "owner")}
    actions = [a for a, _, _ in gov.events("role-flow")]
    assert actions.count("role.invite") == 2 and actions.count("role.add") == 2


def test_decline_revoke_and_expiry(gov: Gov) -> None:
    cat, dan = gov.token("cat"), gov.token("dan")
    assert gov.publish(cat, "role-answers").status_code == 200
    first = invite(gov, cat, "role-answers", "dan", "maintainer")
    declined = gov.call("POST", f"/api/v1/invitations/{first['id']}/decline", dan)
    assert declined.status_code == 200 and declined.json()["status"] == "declined"

    second = invite(gov, cat, "role-answers", "dan", "maintainer")
    # The invitee cannot revoke (that is declining); an owner can.
    assert gov.call("DELETE", f"/api/v1/invitations/{second['id']}", dan).status_code == 403
    revoked = gov.call("DELETE", f"/api/v1/invitations/{second['id']}", cat)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    late = gov.call("POST", f"/api/v1/invitations/{second['id']}/accept", dan)
    assert late.status_code == 409 and "already revoked" in problem(late)["detail"]

    third = invite(gov, cat, "role-answers", "dan", "owner")

    async def expire(hub: Hub) -> None:
        async with hub.sessions() as session:
            past = datetime.now(UTC) - timedelta(minutes=1)
            await session.execute(
                update(models.Invitation)
                .where(models.Invitation.id == third["id"])
                .values(expires_at=past)
            )
            await session.commit()

    gov.live.run(expire)
    listed = gov.call("GET", "/api/v1/invitations", dan).json()["invitations"]
    assert {i["id"]: i["status"] for i in listed}[third["id"]] == "expired"
    expired = gov.call("POST", f"/api/v1/invitations/{third['id']}/accept", dan)
    assert expired.status_code == 409
    body = problem(expired)
    assert (
        body["code"] == "invitation.expired"
        and "ask an owner to invite you again" in body["detail"]
    )
    assert roles_of(gov, "role-answers") == {("cat", "owner")}
    # An expired invitation does not block a new one.
    invite(gov, cat, "role-answers", "dan", "owner")


def test_remove_leave_and_the_last_owner(gov: Gov) -> None:
    eve, fay, gus = gov.token("eve"), gov.token("fay"), gov.token("gus")
    assert gov.publish(eve, "role-leave").status_code == 200
    for user, token in (("fay", fay), ("gus", gus)):
        sent = invite(gov, eve, "role-leave", user, "maintainer")
        assert (
            gov.call("POST", f"/api/v1/invitations/{sent['id']}/accept", token).status_code == 200
        )

    # A maintainer cannot remove someone else, but may leave.
    refused = gov.call("DELETE", "/api/v1/components/role-leave/roles/gus", fay)
    assert refused.status_code == 403 and problem(refused)["code"] == "auth.role"
    left = gov.call("DELETE", "/api/v1/components/role-leave/roles/fay", fay)
    assert left.status_code == 200
    assert roles_of(gov, "role-leave") == {("eve", "owner"), ("gus", "maintainer")}
    removed = gov.call("DELETE", "/api/v1/components/role-leave/roles/gus", eve)
    assert removed.status_code == 200 and roles_of(gov, "role-leave") == {("eve", "owner")}
    missing = gov.call("DELETE", "/api/v1/components/role-leave/roles/gus", eve)
    assert missing.status_code == 404 and problem(missing)["code"] == "role.missing"

    # The last owner can neither leave nor be removed; the message says what to do instead.
    last = gov.call("DELETE", "/api/v1/components/role-leave/roles/eve", eve)
    assert last.status_code == 409
    body = problem(last)
    assert body["code"] == "role.last_owner"
    assert "add another owner first" in body["detail"]
    assert "transfer it to an organization" in body["detail"]
    assert roles_of(gov, "role-leave") == {("eve", "owner")}
    actions = [a for a, _, _ in gov.events("role-leave")]
    assert "role.leave" in actions and "role.remove" in actions


def test_two_owners_removing_each_other_at_once_leave_one(gov: Gov) -> None:
    """Each request finds "another owner is left" and removes the other: without the lock on
    the component row both would succeed, and the component would have no owner."""
    ivy, jon = gov.token("ivy"), gov.token("jon")
    for round_ in range(6):
        name = f"role-race-{round_}"
        assert gov.publish(ivy, name).status_code == 200
        sent = invite(gov, ivy, name, "jon", "owner")
        assert gov.call("POST", f"/api/v1/invitations/{sent['id']}/accept", jon).status_code == 200
        start = threading.Barrier(2)

        def remove(
            token: str, other: str, name: str = name, start: threading.Barrier = start
        ) -> int:
            with httpx.Client(base_url=gov.live.url, timeout=60) as http:
                start.wait()
                url = f"/api/v1/components/{name}/roles/{other}"
                return http.delete(url, headers=bearer(token)).status_code

        with ThreadPoolExecutor(2) as pool:
            codes = sorted(pool.map(remove, (ivy, jon), ("jon", "ivy")))
        owners = {user for user, role in roles_of(gov, name) if role == "owner"}
        assert len(owners) == 1, (codes, owners)
        # One removal went through; the other, run after it, found its user no longer an owner
        # (403) or itself the last one (409).
        assert codes[0] == 200 and codes[1] in (403, 409), codes


def test_organization_owners_count_as_owners_for_the_last_owner_rule(gov: Gov) -> None:
    hal, ida = gov.token("hal"), gov.token("ida")
    assert gov.publish(hal, "role-org-owned").status_code == 200
    assert gov.call("POST", "/api/v1/orgs", ida, json={"name": "idacorp"}).status_code == 201
    sent = gov.call(
        "POST", "/api/v1/orgs/idacorp/members", ida, json={"username": "hal", "role": "owner"}
    )
    assert (
        gov.call("POST", f"/api/v1/invitations/{sent.json()['id']}/accept", hal).status_code == 200
    )
    moved = gov.call(
        "POST", "/api/v1/components/role-org-owned/transfer", hal, json={"organization": "idacorp"}
    )
    assert moved.status_code == 200 and "role-org-owned" in moved.json()["components"]
    # ida owns it through the organization, so hal's direct role may go.
    assert gov.call("DELETE", "/api/v1/components/role-org-owned/roles/hal", hal).status_code == 200
    assert ("ida", "owner") in roles_of(gov, "role-org-owned")


def test_roles_need_a_known_user_and_a_known_role(gov: Gov) -> None:
    jon = gov.token("jon")
    assert gov.publish(jon, "role-input").status_code == 200
    url = "/api/v1/components/role-input/roles"
    nobody = gov.call("POST", url, jon, json={"username": "no-such-user", "role": "owner"})
    assert nobody.status_code == 404 and problem(nobody)["code"] == "user.missing"
    bad = gov.call("POST", url, jon, json={"username": "jon", "role": "admin"})
    assert bad.status_code == 400
    assert gov.call("GET", "/api/v1/components/nope-nope/roles", None).status_code == 404


# -- in-process: the roles service, without a server -------------------------------------------


async def direct(people: People, comp: int, user: str, role: str) -> None:
    async with people.hub.sessions() as s:
        s.add(models.Role(user_id=people.ids[user], component_id=comp, role=role))
        await s.commit()


async def in_org(people: People, comp: int, owner: str) -> int:
    """Move the component into a new organization `owner` owns; its id."""
    org = await people.org(f"org-of-{owner}", owner)
    async with people.hub.sessions() as s:
        await s.execute(update(models.Component).where(models.Component.id == comp)
                        .values(org_id=org))  # fmt: skip
        await s.commit()
    return org


async def team_role(people: People, org: int, comp: int, user: str, role: str) -> None:
    async with people.hub.sessions() as s:
        team = models.Team(org_id=org, name=f"team-{user}")
        s.add(team)
        await s.flush()
        s.add_all([
            models.TeamMember(team_id=team.id, user_id=people.ids[user]),
            models.TeamRole(team_id=team.id, component_id=comp, role=role),
        ])  # fmt: skip
        await s.commit()


async def test_the_role_list_shows_every_source_owners_first(people: People) -> None:
    comp = await people.component("csv", "eve")
    await direct(people, comp, "ben", "maintainer")
    async with people.hub.sessions() as s:
        alone = await roles.list_roles(s, "CSV")
    assert (alone.component, alone.organization) == ("csv", None)
    assert [(e.username, e.role, e.via) for e in alone.roles] == [
        ("eve", "owner", "direct"), ("ben", "maintainer", "direct"),
    ]  # fmt: skip
    org = await in_org(people, comp, "ann")
    await team_role(people, org, comp, "dan", "maintainer")
    await team_role(people, org, comp, "cat", "owner")
    async with people.hub.sessions() as s:
        listed = await roles.list_roles(s, "csv")
    assert listed.organization == "org-of-ann"
    assert [(e.username, e.role, e.via) for e in listed.roles] == [
        ("ann", "owner", "organization"), ("cat", "owner", "team:team-cat"),
        ("eve", "owner", "direct"), ("ben", "maintainer", "direct"),
        ("dan", "maintainer", "team:team-dan"),
    ]  # fmt: skip


async def test_owners_are_counted_from_every_source(people: People) -> None:
    comp = await people.component("csv", "eve")
    await direct(people, comp, "ben", "maintainer")
    async with people.hub.sessions() as s:
        c = await s.get(models.Component, comp)
        assert c is not None
        assert await roles.owner_ids(s, c) == {people.ids["eve"]}
        assert await roles.owner_ids(s, c, without_direct=people.ids["eve"]) == set()
    org = await in_org(people, comp, "ann")
    await team_role(people, org, comp, "cat", "owner")
    await team_role(people, org, comp, "dan", "maintainer")
    async with people.hub.sessions() as s:
        c = await s.get(models.Component, comp)
        assert c is not None
        ids = people.ids
        assert await roles.owner_ids(s, c) == {ids["eve"], ids["ann"], ids["cat"]}
        assert await roles.owner_ids(s, c, without_direct=ids["eve"]) == {ids["ann"], ids["cat"]}


async def test_an_owner_removes_a_role_and_anyone_leaves_their_own(people: People) -> None:
    comp = await people.component("csv", "ann", "CSV")
    for user in ("ben", "cat"):
        await direct(people, comp, user, "maintainer")
    ben = people.who("ben")
    with pytest.raises(Forbidden) as refused:
        await roles.remove_role(people.hub, ben, "csv", "cat")
    assert refused.value.code == "auth.role"
    left = await roles.remove_role(people.hub, ben, "csv", "BEN")
    assert [e.username for e in left.roles] == ["ann", "cat"]
    removed = await roles.remove_role(people.hub, people.who("ann"), "csv", "cat")
    assert [e.username for e in removed.roles] == ["ann"]
    with pytest.raises(NotFound) as missing:
        await roles.remove_role(people.hub, people.who("ann"), "csv", "cat")
    assert (missing.value.code, missing.value.detail) == (
        "role.missing",
        "'cat' has no direct role on 'CSV'; a role held through an organization or a team is "
        "removed there (`pysetl-hub orgs ...`)",
    )
    assert await people.events("role.leave", "role.remove") == [
        ("role.leave", "ben", "component:csv", {"username": "ben", "role": "maintainer"}),
        ("role.remove", "ann", "component:csv", {"username": "cat", "role": "maintainer"}),
    ]


async def test_a_scoped_token_leaves_only_its_own_components(people: People) -> None:
    comp = await people.component("csv", "ann", "CSV")
    other = await people.component("other", "ann")
    await direct(people, comp, "ben", "maintainer")
    elsewhere = people.who("ben", via="token", components=frozenset({other}))
    with pytest.raises(Forbidden) as refused:
        await roles.remove_role(people.hub, elsewhere, "csv", "ben")
    assert (refused.value.code, refused.value.detail) == (
        "auth.scope",
        "this token is scoped to other components and cannot leave 'CSV'",
    )
    here = people.who("ben", via="token", components=frozenset({comp}))
    await roles.remove_role(people.hub, here, "csv", "ben")


async def test_a_trusted_publisher_s_token_does_not_leave_for_its_user(people: People) -> None:
    comp = await people.component("csv", "ann")
    await direct(people, comp, "ben", "maintainer")
    minted = people.who("ben", via="oidc", components=frozenset({comp}),
                        actions=frozenset({"upload"}), publisher="github:o/r/ci.yml")  # fmt: skip
    with pytest.raises(Forbidden) as refused:
        await roles.remove_role(people.hub, minted, "csv", "ben")
    assert refused.value.code == "auth.token_action"


async def test_the_last_owner_stays_unless_another_owns_it_some_other_way(
    people: People,
) -> None:
    comp = await people.component("csv", "ann")
    await direct(people, comp, "ben", "owner")
    ann = people.who("ann")
    await roles.remove_role(people.hub, ann, "csv", "ben")
    with pytest.raises(Conflict) as last:
        await roles.remove_role(people.hub, ann, "csv", "ann")
    assert (last.value.code, last.value.detail) == (
        "role.last_owner",
        "'ann' is the last owner of 'csv' and a component must keep one: add another owner "
        "first (`pysetl-hub owners add csv USER`, who then accepts the invitation) or transfer "
        "it to an organization (`pysetl-hub orgs transfer csv ORG`)",
    )
    org = await in_org(people, comp, "dan")  # dan owns it through the organization
    await roles.remove_role(people.hub, ann, "csv", "ann")
    # and a team owner counts the same way
    other = await people.component("other", "eve")
    async with people.hub.sessions() as s:
        await s.execute(update(models.Component).where(models.Component.id == other)
                        .values(org_id=org))  # fmt: skip
        await s.execute(delete(models.OrgMember))
        await s.commit()
    await team_role(people, org, other, "cat", "owner")
    await roles.remove_role(people.hub, people.who("eve"), "other", "eve")
