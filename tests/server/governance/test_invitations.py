"""Invitations in-process: who may invite whom to what, what blocks a second invitation, and
each answer (accept, decline, revoke) with its refusals and audit events.

test_roles.py and test_orgs.py prove the flows over HTTP on a live hub; these call the services
directly, so each rule is checked in milliseconds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from pysetl_hub_schemas import OrgMemberRequest, RoleRequest
from pysetl_hub_server.db import models
from pysetl_hub_server.errors import Conflict, Forbidden, HubError, NotFound
from pysetl_hub_server.governance import invitations, roles
from tests.server.governance.conftest import People


async def refused(call: object, kind: type[HubError], code: str) -> str:
    with pytest.raises(kind) as info:
        await call  # type: ignore[misc]
    assert info.value.code == code, info.value.detail
    return info.value.detail


async def role_of(people: People, user: str, component_id: int) -> str | None:
    async with people.hub.sessions() as s:
        return await s.scalar(
            select(models.Role.role).where(
                models.Role.user_id == people.ids[user], models.Role.component_id == component_id
            )
        )


async def expire(people: People, invitation_id: int) -> datetime:
    past = datetime(2020, 5, 6, 7, 8, tzinfo=UTC)
    async with people.hub.sessions() as s:
        await s.execute(
            update(models.Invitation)
            .where(models.Invitation.id == invitation_id)
            .values(expires_at=past)
        )
        await s.commit()
    return past


async def test_an_owner_invites_and_the_invitation_says_everything(people: People) -> None:
    comp = await people.component("csv", "ann", "CSV")
    before = datetime.now(UTC)
    sent = await invitations.invite_to_component(
        people.hub, people.who("ann"), "CSV", RoleRequest(username="Ben", role="maintainer")
    )
    assert (sent.invitee, sent.inviter, sent.role, sent.status) == (
        "ben", "ann", "maintainer", "pending",
    )  # fmt: skip
    assert (sent.component, sent.organization) == ("csv", None)
    assert before <= sent.created <= datetime.now(UTC)
    assert sent.expires - sent.created == timedelta(days=7)  # Settings.invitation_days
    assert await people.events("role.invite") == [
        ("role.invite", "ann", "component:csv",
         {"username": "ben", "role": "maintainer", "invitation": sent.id}),
    ]  # fmt: skip
    assert await role_of(people, "ben", comp) is None  # nothing until accepted


async def test_only_an_owner_invites_to_a_component(people: People) -> None:
    comp = await people.component("csv", "ann")
    async with people.hub.sessions() as s:
        s.add(models.Role(user_id=people.ids["ben"], component_id=comp, role="maintainer"))
        await s.commit()
    request = RoleRequest(username="cat", role="maintainer")
    call = invitations.invite_to_component(people.hub, people.who("ben"), "csv", request)
    await refused(call, Forbidden, "auth.role")
    call = invitations.invite_to_component(
        people.hub, people.who("ann"), "csv", RoleRequest(username="nobody", role="owner")
    )
    await refused(call, NotFound, "user.missing")


@pytest.mark.parametrize(
    ("held", "asked", "says"),
    [
        ("maintainer", "maintainer", "'ben' is already a maintainer of 'CSV'"),
        ("owner", "owner", "'ben' is already an owner of 'CSV'"),
        ("owner", "maintainer", "'ben' is already an owner of 'CSV'; to make them a maintainer, "
         "remove the owner role (`pysetl-hub owners remove csv ben`) and invite them again"),
    ],
)  # fmt: skip
async def test_a_role_held_is_not_offered_again(
    people: People, held: str, asked: str, says: str
) -> None:
    comp = await people.component("csv", "ann", "CSV")
    async with people.hub.sessions() as s:
        s.add(models.Role(user_id=people.ids["ben"], component_id=comp, role=held))
        await s.commit()
    call = invitations.invite_to_component(
        people.hub, people.who("ann"), "csv", RoleRequest(username="ben", role=asked)
    )
    assert await refused(call, Conflict, "role.exists") == says


async def test_a_maintainer_is_promoted_by_invitation_and_keeps_the_higher_role(
    people: People,
) -> None:
    comp = await people.component("csv", "ann")
    async with people.hub.sessions() as s:
        s.add(models.Role(user_id=people.ids["ben"], component_id=comp, role="maintainer"))
        await s.commit()
    ann, ben = people.who("ann"), people.who("ben")
    up = await invitations.invite_to_component(
        people.hub, ann, "csv", RoleRequest(username="ben", role="owner")
    )
    accepted = await invitations.accept(people.hub, ben, up.id)
    assert accepted.status == "accepted"
    assert await role_of(people, "ben", comp) == "owner"
    assert await people.events("role.add") == [
        ("role.add", "ben", "component:csv",
         {"username": "ben", "role": "owner", "invitation": up.id}),
    ]  # fmt: skip


async def test_one_pending_invitation_per_invitee_and_target(people: People) -> None:
    await people.component("csv", "ann", "CSV")
    await people.component("other", "ann")
    await people.org("acme", "ann")
    ann = people.who("ann")
    first = await invitations.invite_to_component(
        people.hub, ann, "csv", RoleRequest(username="ben", role="maintainer")
    )
    call = invitations.invite_to_component(
        people.hub, ann, "csv", RoleRequest(username="ben", role="owner")
    )
    assert await refused(call, Conflict, "invitation.exists") == (
        "'ben' already has a pending invitation to 'CSV': revoke it first (`pysetl-hub "
        "invitations revoke ID`) to send another"
    )
    # another component, and the organization, are other targets
    request = RoleRequest(username="ben", role="maintainer")
    await invitations.invite_to_component(people.hub, ann, "other", request)
    await invitations.invite_to_org(people.hub, ann, "acme", OrgMemberRequest(username="ben"))
    to_cat = RoleRequest(username="cat", role="owner")
    await invitations.invite_to_component(people.hub, ann, "csv", to_cat)
    # an expired invitation blocks nothing
    await expire(people, first.id)
    await invitations.invite_to_component(people.hub, ann, "csv", request)


async def test_organization_invitations(people: People) -> None:
    org = await people.org("acme", "ann", "Acme")
    ann = people.who("ann")
    sent = await invitations.invite_to_org(
        people.hub, ann, "acme", OrgMemberRequest(username="ben", role="member")
    )
    assert (sent.organization, sent.component, sent.role, sent.inviter) == (
        "acme", None, "member", "ann",
    )  # fmt: skip
    call = invitations.invite_to_org(people.hub, ann, "acme", OrgMemberRequest(username="ben"))
    assert await refused(call, Conflict, "invitation.exists") == (
        "'ben' already has a pending invitation to 'Acme': revoke it first (`pysetl-hub "
        "invitations revoke ID`) to send another"
    )
    call = invitations.invite_to_org(people.hub, people.who("ben"), "acme",
                                     OrgMemberRequest(username="cat"))  # fmt: skip
    await refused(call, Forbidden, "auth.role")
    await invitations.accept(people.hub, people.who("ben"), sent.id)
    for role, says in [("member", "a member"), ("owner", None)]:
        call = invitations.invite_to_org(people.hub, ann, "acme",
                                         OrgMemberRequest(username="ben", role=role))  # fmt: skip
        if says is None:
            promoted = await call
            await invitations.accept(people.hub, people.who("ben"), promoted.id)
        else:
            assert await refused(call, Conflict, "org.member_exists") == (
                f"'ben' is already {says} of 'Acme'"
            )
    call = invitations.invite_to_org(people.hub, ann, "acme", OrgMemberRequest(username="ben"))
    assert await refused(call, Conflict, "org.member_exists") == (
        "'ben' is already an owner of 'Acme'"
    )
    async with people.hub.sessions() as s:
        seat = await s.scalar(
            select(models.OrgMember.role).where(
                models.OrgMember.org_id == org, models.OrgMember.user_id == people.ids["ben"]
            )
        )
    assert seat == "owner"
    assert [(a, actor, target, d["role"]) for a, actor, target, d in
            await people.events("org.member.invite", "org.member.add")] == [
        ("org.member.invite", "ann", "org:acme", "member"),
        ("org.member.add", "ben", "org:acme", "member"),
        ("org.member.invite", "ann", "org:acme", "owner"),
        ("org.member.add", "ben", "org:acme", "owner"),
    ]  # fmt: skip


async def test_a_member_invited_before_joining_keeps_the_seat_they_have(people: People) -> None:
    """An owner (since the member invitation was sent) who accepts it stays an owner."""
    org = await people.org("acme", "ann")
    ann, ben = people.who("ann"), people.who("ben")
    member = await invitations.invite_to_org(
        people.hub, ann, "acme", OrgMemberRequest(username="ben")
    )
    async with people.hub.sessions() as s:  # meanwhile ben became an owner some other way
        s.add(models.OrgMember(org_id=org, user_id=people.ids["ben"], role="owner"))
        await s.commit()
    await invitations.accept(people.hub, ben, member.id)
    async with people.hub.sessions() as s:
        seats = list(await s.scalars(
            select(models.OrgMember.role).where(models.OrgMember.user_id == people.ids["ben"])
        ))  # fmt: skip
    assert seats == ["owner"]


async def test_the_invitee_alone_answers_and_only_once(people: People) -> None:
    await people.component("csv", "ann")
    ann, ben = people.who("ann"), people.who("ben")
    sent = await invitations.invite_to_component(
        people.hub, ann, "csv", RoleRequest(username="ben", role="maintainer")
    )
    missing = f"no invitation #{sent.id}: see yours with `pysetl-hub invitations`"
    for nobody in (invitations.accept(people.hub, ann, sent.id),
                   invitations.decline(people.hub, people.who("cat"), sent.id)):  # fmt: skip
        assert await refused(nobody, NotFound, "invitation.missing") == missing
    gone = invitations.accept(people.hub, ben, 4242)
    assert await refused(gone, NotFound, "invitation.missing") == (
        "no invitation #4242: see yours with `pysetl-hub invitations`"
    )
    declined = await invitations.decline(people.hub, ben, sent.id)
    assert declined.status == "declined"
    for again in (invitations.accept(people.hub, ben, sent.id),
                  invitations.decline(people.hub, ben, sent.id)):  # fmt: skip
        detail = await refused(again, Conflict, "invitation.closed")
        assert detail == f"invitation #{sent.id} was already declined"
    assert await people.events("invitation.decline") == [
        ("invitation.decline", "ben", "component:csv",
         {"invitation": sent.id, "role": "maintainer"}),
    ]  # fmt: skip


async def test_an_expired_invitation_cannot_be_accepted(people: People) -> None:
    comp = await people.component("csv", "ann")
    sent = await invitations.invite_to_component(
        people.hub, people.who("ann"), "csv", RoleRequest(username="ben", role="owner")
    )
    await expire(people, sent.id)
    detail = await refused(
        invitations.accept(people.hub, people.who("ben"), sent.id), Conflict, "invitation.expired"
    )
    assert detail == (
        f"invitation #{sent.id} expired on 2020-05-06 07:08 UTC and can no longer be accepted: "
        "ask an owner to invite you again"
    )
    assert await role_of(people, "ben", comp) is None
    listed = (await invitations.mine(people.hub, people.who("ben"))).invitations
    assert [(i.id, i.status) for i in listed] == [(sent.id, "expired")]


async def test_an_owner_revokes_a_pending_invitation(people: People) -> None:
    comp = await people.component("csv", "ann")
    await people.org("acme", "ann")
    ann, ben = people.who("ann"), people.who("ben")
    sent = await invitations.invite_to_component(
        people.hub, ann, "csv", RoleRequest(username="ben", role="maintainer")
    )
    await refused(invitations.revoke(people.hub, ben, sent.id), Forbidden, "auth.role")
    assert (await invitations.revoke(people.hub, ann, sent.id)).status == "revoked"
    detail = await refused(invitations.revoke(people.hub, ann, sent.id), Conflict,
                           "invitation.closed")  # fmt: skip
    assert detail == f"invitation #{sent.id} was already revoked"
    late = await refused(invitations.accept(people.hub, ben, sent.id), Conflict,
                         "invitation.closed")  # fmt: skip
    assert late == f"invitation #{sent.id} was already revoked"
    assert await role_of(people, "ben", comp) is None
    seat = await invitations.invite_to_org(
        people.hub, ann, "acme", OrgMemberRequest(username="cat")
    )
    await refused(
        invitations.revoke(people.hub, people.who("cat"), seat.id), Forbidden, "auth.role"
    )
    assert (await invitations.revoke(people.hub, ann, seat.id)).status == "revoked"
    await refused(invitations.revoke(people.hub, ann, 4242), NotFound, "invitation.missing")
    assert await people.events("invitation.revoke") == [
        ("invitation.revoke", "ann", "component:csv",
         {"invitation": sent.id, "role": "maintainer"}),
        ("invitation.revoke", "ann", "org:acme", {"invitation": seat.id, "role": "member"}),
    ]  # fmt: skip


async def test_declining_an_organization_seat_is_recorded_on_the_organization(
    people: People,
) -> None:
    await people.org("acme", "ann")
    seat = await invitations.invite_to_org(
        people.hub, people.who("ann"), "acme", OrgMemberRequest(username="ben", role="owner")
    )
    await invitations.decline(people.hub, people.who("ben"), seat.id)
    assert await people.events("invitation.decline") == [
        ("invitation.decline", "ben", "org:acme", {"invitation": seat.id, "role": "owner"}),
    ]


async def test_my_invitations_pending_first_then_newest_first(people: People) -> None:
    for name in ("one", "two", "three", "four"):
        await people.component(name, "ann")
    ann, ben = people.who("ann"), people.who("ben")
    sent = [
        await invitations.invite_to_component(
            people.hub, ann, name, RoleRequest(username="ben", role="maintainer")
        )
        for name in ("one", "two", "three", "four")
    ]
    await invitations.invite_to_component(
        people.hub, ann, "one", RoleRequest(username="cat", role="owner")
    )
    await invitations.decline(people.hub, ben, sent[3].id)
    await invitations.accept(people.hub, ben, sent[1].id)
    listed = (await invitations.mine(people.hub, ben)).invitations
    assert [(i.component, i.status) for i in listed] == [
        ("three", "pending"), ("one", "pending"), ("four", "declined"), ("two", "accepted"),
    ]  # fmt: skip
    scoped = people.who("ben", via="token", components=frozenset({1}))
    await refused(invitations.mine(people.hub, scoped), Forbidden, "auth.scope")
    for answer in (invitations.accept, invitations.decline):
        await refused(answer(people.hub, scoped, sent[0].id), Forbidden, "auth.scope")


async def test_an_invitation_outlives_its_inviter(people: People) -> None:
    await people.component("csv", "ann")
    await people.component("two", "ben")
    sent = await invitations.invite_to_component(
        people.hub, people.who("ben"), "two", RoleRequest(username="cat", role="maintainer")
    )
    async with people.hub.sessions() as s:
        await s.execute(update(models.Invitation).values(inviter_id=None))
        await s.commit()
    (shown,) = (await invitations.mine(people.hub, people.who("cat"))).invitations
    assert (shown.id, shown.inviter, shown.invitee) == (sent.id, None, "cat")


async def test_granting_never_lowers_a_role(people: People) -> None:
    comp = await people.component("csv", "ann")
    async with people.hub.sessions() as s:
        c = await s.get(models.Component, comp)
        assert c is not None
        assert (await roles.grant(s, c, people.ids["ben"], "maintainer")).role == "maintainer"
        await s.flush()
        assert (await roles.grant(s, c, people.ids["ben"], "owner")).role == "owner"
        assert (await roles.grant(s, c, people.ids["ann"], "maintainer")).role == "owner"
        await s.commit()
    assert await role_of(people, "ben", comp) == "owner"
