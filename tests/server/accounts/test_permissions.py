"""The permission rules in-process: where a role comes from, who may grant it, and each refusal
of `authorize`, `require_user_wide` and `require_admin` in its own words.

test_permission_table.py proves the same rules through every endpoint of a live hub; this
module calls them directly on a migrated SQLite, so each rule is checked in milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_server.accounts.permissions import (
    RULES,
    TOKEN_ACTIONS,
    Identity,
    authorize,
    effective_role,
    grantors,
    require_admin,
    require_user_wide,
)
from pysetl_hub_server.audit.services import Actor
from pysetl_hub_server.db.models import (
    Component,
    Organization,
    OrgMember,
    Role,
    Team,
    TeamMember,
    TeamRole,
    User,
)
from pysetl_hub_server.errors import Forbidden
from pysetl_hub_server.hub import Hub

USERS = ["owner", "maint", "orgowner", "orgmember", "teammaint", "teamowner", "both", "nobody"]


@dataclass
class World:
    session: AsyncSession
    users: dict[str, User]
    comp: Component  # in the organization `acme`, with a role from every source
    loose: Component  # in no organization: direct roles only
    other: Component  # in `acme` too, but nobody's roles on `comp` reach it

    def who(self, name: str, **kw: Any) -> Identity:
        return Identity(self.users[name].id, name, "0123456789abcdef", **kw)


@pytest.fixture
async def world(offline_hub: Hub) -> Any:
    async with offline_hub.sessions() as s:
        users = {n: User(username=n, email=f"{n}@example.org", password_hash="x") for n in USERS}
        org, elsewhere = (
            Organization(name="acme", display_name="Acme"),
            Organization(name="else", display_name="Else"),
        )
        s.add_all([*users.values(), org, elsewhere])
        await s.flush()
        comp = Component(name="csv-dedupe", display_name="CSV_Dedupe", org_id=org.id)
        loose = Component(name="loose", display_name="Loose")
        other = Component(name="other", display_name="Other", org_id=org.id)
        devs, leads = Team(org_id=org.id, name="devs"), Team(org_id=org.id, name="leads")
        s.add_all([comp, loose, other, devs, leads])
        await s.flush()
        u = {n: user.id for n, user in users.items()}
        s.add_all(
            [
                Role(user_id=u["owner"], component_id=comp.id, role="owner"),
                Role(user_id=u["maint"], component_id=comp.id, role="maintainer"),
                Role(user_id=u["owner"], component_id=loose.id, role="owner"),
                Role(user_id=u["maint"], component_id=loose.id, role="maintainer"),
                Role(user_id=u["both"], component_id=comp.id, role="owner"),
                Role(user_id=u["maint"], component_id=other.id, role="maintainer"),
                OrgMember(org_id=org.id, user_id=u["orgowner"], role="owner"),
                OrgMember(org_id=org.id, user_id=u["both"], role="owner"),
                OrgMember(org_id=org.id, user_id=u["orgmember"], role="member"),
                OrgMember(org_id=org.id, user_id=u["teammaint"], role="member"),
                OrgMember(org_id=elsewhere.id, user_id=u["nobody"], role="owner"),
                TeamMember(team_id=devs.id, user_id=u["teammaint"]),
                TeamMember(team_id=leads.id, user_id=u["teamowner"]),
                TeamMember(team_id=leads.id, user_id=u["maint"]),
                TeamRole(team_id=devs.id, component_id=comp.id, role="maintainer"),
                TeamRole(team_id=leads.id, component_id=other.id, role="owner"),
            ]
        )
        await s.flush()
        yield World(s, users, comp, loose, other)


async def test_roles_come_from_a_grant_the_organization_or_a_team(world: World) -> None:
    found = {n: await effective_role(world.session, world.users[n].id, world.comp) for n in USERS}
    assert found == {
        "owner": "owner",
        "maint": "maintainer",
        "orgowner": "owner",  # owns the organization
        "orgmember": None,  # a plain member holds nothing
        "teammaint": "maintainer",  # through the team devs
        "teamowner": None,  # leads own `other`, not this component
        "both": "owner",
        "nobody": None,  # owns another organization
    }
    other = {n: await effective_role(world.session, world.users[n].id, world.other) for n in USERS}
    assert other == {
        "owner": None,
        "maint": "owner",  # the highest of two: a direct maintainer, an owner through leads
        "orgowner": "owner",
        "orgmember": None,
        "teammaint": None,
        "teamowner": "owner",
        "both": "owner",
        "nobody": None,
    }
    # a component in no organization: only direct grants reach it
    assert await effective_role(world.session, world.users["maint"].id, world.loose) == (
        "maintainer"
    )


async def test_grantors_are_the_owners_direct_and_through_the_organization(world: World) -> None:
    assert await grantors(world.session, world.comp) == ["both", "orgowner", "owner"]
    assert await grantors(world.session, world.loose) == ["owner"]
    assert await grantors(world.session, world.other) == ["both", "orgowner"]


async def refusal(world: World, who: Identity, component: Component, action: str) -> Forbidden:
    with pytest.raises(Forbidden) as refused:
        await authorize(world.session, who, component, action)
    return refused.value


@pytest.mark.parametrize("action", RULES)
async def test_each_rule_admits_its_least_role_and_refuses_the_one_below(
    world: World, action: str
) -> None:
    rule = RULES[action]
    await authorize(world.session, world.who("owner"), world.comp, action)
    await authorize(world.session, world.who("orgowner"), world.comp, action)
    if rule.role == "maintainer":
        await authorize(world.session, world.who("maint"), world.comp, action)
        await authorize(world.session, world.who("teammaint"), world.comp, action)
        below, have = "orgmember", "has no role"
    else:
        below, have = "maint", "has the maintainer role"
    refused = await refusal(world, world.who(below), world.comp, action)
    assert refused.code == "auth.role"
    needed = "owner" if rule.role == "owner" else "maintainer or owner"
    command = "owners" if rule.role == "owner" else "maintainers"
    assert refused.detail == (
        f"user {below!r} may not {rule.words} 'CSV_Dedupe': that needs the {needed} role and "
        f"{below!r} {have}; an owner (both, orgowner, owner) can grant it with "
        f"`pysetl-hub {command} add csv-dedupe {below}`"
    )
    assert refused.extra == {
        "needed_role": rule.role,
        "role": None if below == "orgmember" else "maintainer",
        "granted_by": ["both", "orgowner", "owner"],
    }


async def test_a_component_without_owners_sends_to_an_admin(world: World) -> None:
    bare = Component(name="bare", display_name="Bare")
    world.session.add(bare)
    await world.session.flush()
    refused = await refusal(world, world.who("nobody"), bare, "upload")
    assert "; an owner (an admin) can grant it with `pysetl-hub maintainers add bare nobody`" in (
        refused.detail
    )
    assert refused.extra is not None and refused.extra["granted_by"] == []


async def test_a_scoped_token_acts_only_within_its_scope(world: World) -> None:
    scoped = world.who("owner", components=frozenset({world.loose.id}))
    await authorize(world.session, scoped, world.loose, "settings")
    refused = await refusal(world, scoped, world.comp, "yank")
    assert (refused.code, refused.extra) == ("auth.scope", {"needed_scope": "csv-dedupe"})
    assert refused.detail == (
        "this token is scoped to other components and cannot yank releases of 'CSV_Dedupe': "
        "use a token whose scope includes 'CSV_Dedupe', or a user-wide token"
    )


@pytest.mark.parametrize(
    ("actions", "may"),
    [(frozenset({"yank", "upload"}), "upload, yank"), (frozenset(), "read")],
)
async def test_a_token_without_the_action_is_refused_whatever_the_role(
    world: World, actions: frozenset[str], may: str
) -> None:
    who = world.who("owner", actions=actions)
    refused = await refusal(world, who, world.comp, "delete")
    assert (refused.code, refused.extra) == ("auth.token_action", {"needed_action": "manage"})
    assert refused.detail == (
        f"this token may only {may} and cannot delete files or releases of 'CSV_Dedupe': "
        "create a token with the 'manage' action"
    )


async def test_a_trusted_publisher_s_token_needs_no_role_but_its_scope_and_action(
    world: World,
) -> None:
    minted = world.who(
        "nobody",
        components=frozenset({world.comp.id}),
        actions=frozenset({"upload"}),
        via="oidc",
        publisher="github:acme/csv/release.yml",
    )
    await authorize(world.session, minted, world.comp, "upload")
    assert (await refusal(world, minted, world.comp, "yank")).code == "auth.token_action"
    assert (await refusal(world, minted, world.other, "upload")).code == "auth.scope"
    # the same credential as a plain token of the same user has no role to lean on
    plain = world.who("nobody", components=frozenset({world.comp.id}))
    assert (await refusal(world, plain, world.comp, "upload")).code == "auth.role"


def test_an_identity_acts_as_its_user_or_its_publisher() -> None:
    who = Identity(7, "alice", None, ip="192.0.2.1", user_agent="ua/1")
    assert who.actor == Actor(7, "alice", "192.0.2.1", "ua/1")
    assert who.user_wide and who.actions == frozenset(TOKEN_ACTIONS)
    minted = Identity(7, "alice", "t", frozenset({1}), publisher="github:acme/csv/ci.yml")
    assert minted.actor == Actor(7, "publisher:github:acme/csv/ci.yml", None, None)
    assert not minted.user_wide


@pytest.mark.parametrize("actions", [{"upload"}, {"manage"}, {"upload", "yank", "manage"}])
def test_a_user_wide_credential_that_may_upload_or_manage_creates(actions: set[str]) -> None:
    require_user_wide(Identity(1, "alice", "t", None, frozenset(actions)), "new-thing")


@pytest.mark.parametrize(
    ("who", "code", "detail", "extra"),
    [
        (Identity(1, "alice", "t", frozenset({3})), "auth.scope",
         "this token is scoped to existing components and cannot create 'new-thing': use a "
         "user-wide token", None),
        (Identity(1, "alice", "t", None, via="oidc"), "auth.scope",
         "this token is scoped to existing components and cannot create 'new-thing': use a "
         "user-wide token", None),
        (Identity(1, "alice", "t", None, frozenset({"yank"})), "auth.token_action",
         "creating 'new-thing' needs a token with the 'upload' or 'manage' action",
         {"needed_action": "upload"}),
    ],
)  # fmt: skip
def test_creating_a_component_takes_a_user_wide_credential(
    who: Identity, code: str, detail: str, extra: dict[str, str] | None
) -> None:
    with pytest.raises(Forbidden) as refused:
        require_user_wide(who, "new-thing")
    assert (refused.value.code, refused.value.detail, refused.value.extra) == (code, detail, extra)


def test_admin_actions_take_an_admin() -> None:
    require_admin(Identity(1, "root", None, is_admin=True), "quarantine components")
    with pytest.raises(Forbidden) as refused:
        require_admin(Identity(1, "alice", None), "quarantine components")
    assert refused.value.code == "auth.admin"
    assert refused.value.detail == (
        "only a hub admin may quarantine components: ask an admin (the server operator grants "
        "the role with `pysetl-hub-server admin grant USER`)"
    )
