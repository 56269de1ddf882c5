"""Who may do what, as one table: actor x action on one component -> allowed, or refused with
the rule that refused it. Every rule of `permissions.RULES` and both admin actions have a row.

One live hub per backend serves the whole module. The component `table-comp` belongs to the
organization `tableorg`, so every way of holding a role is on it at once: a direct owner and a
direct maintainer, an owner and a plain member of the organization, a team with the maintainer
role and one with the owner role. An allowed action is set up so that it can run again
(a fresh version to upload or delete, an invitation revoked after it was sent).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from pysetl_hub_server.accounts.permissions import RULES
from pysetl_hub_server.db import models
from pysetl_hub_server.governance import lookup, roles
from pysetl_hub_server.hub import Hub
from tests.support.governance import accept_all, bearer, module_live, token_for, wheel
from tests.support.live import LiveServer
from tests.support.upload import upload

__all__ = ["module_live"]  # the fixture, imported to be found

NAME = "table-comp"
ORG = "tableorg"


@dataclass
class World:
    live: LiveServer
    http: httpx.Client
    source: Path
    out: Path
    tokens: dict[str, str | None]
    standing_invitation: int = 0
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def fresh_version(self) -> tuple[str, str]:
        """Upload a new version as the owner; (version, filename)."""
        version = f"3.{next(self.counter)}"
        path = wheel(self.source, self.out, NAME, version)
        r = upload(self.http, self.tokens["owner"], path)
        assert r.status_code == 200, r.text
        return version, path.name

    def invite(self, username: str, role: str) -> int:
        """The owner invites `username` to `role`; the invitation's id."""
        body = {"username": username, "role": role}
        r = self.owner_call("POST", f"/api/v1/components/{NAME}/roles", json=body)
        return int(r.json()["id"])

    def owner_call(self, method: str, url: str, **kw: Any) -> httpx.Response:
        r = self.http.request(method, url, headers=bearer(self.tokens["owner"]), **kw)
        assert r.status_code < 300, r.text
        return r


def ok(r: httpx.Response) -> httpx.Response:
    assert r.status_code < 300, r.text
    return r


@pytest.fixture(scope="module")
def world(
    module_live: LiveServer,
    example_dists: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> World:
    live = module_live
    out = tmp_path_factory.mktemp("wheels")
    source = example_dists["csv-dedupe:wheel"]
    http = httpx.Client(base_url=live.url, timeout=30)
    t: dict[str, str | None] = {"anonymous": None}
    for user in ("owner", "maint", "unrelated", "orgowner", "orgmember", "teammaint"):
        t[user] = token_for(live, user)
    t["teamowner"] = token_for(live, "teamowner")
    t["admin"] = token_for(live, "admin", admin=True)
    for user in ("invitee", "victim", "standing"):
        t[user] = token_for(live, user)
    w = World(live, http, source, out, t)

    # owner publishes table-comp and other-comp, and invites maint (who accepts).
    ok(upload(http, t["owner"], wheel(source, out, NAME, "1.0.0")))
    ok(upload(http, t["owner"], wheel(source, out, "other-comp", "1.0.0")))
    for user in ("maint", "victim"):
        w.invite(user, "maintainer")
        accept_all(http, t[user] or "")
    # orgowner creates the organization; owner joins as an owner, moves table-comp in, leaves.
    oo = bearer(t["orgowner"])
    ok(http.post("/api/v1/orgs", json={"name": ORG}, headers=oo))
    members = [("owner", "owner"), ("orgmember", "member"), ("teammaint", "member")]
    for user, role in [*members, ("teamowner", "member")]:
        body = {"username": user, "role": role}
        ok(http.post(f"/api/v1/orgs/{ORG}/members", json=body, headers=oo))
        accept_all(http, t[user] or "")
    w.owner_call("POST", f"/api/v1/components/{NAME}/transfer", json={"organization": ORG})
    w.owner_call("DELETE", f"/api/v1/orgs/{ORG}/members/owner")
    for team, user, role in (("devs", "teammaint", "maintainer"), ("leads", "teamowner", "owner")):
        ok(http.post(f"/api/v1/orgs/{ORG}/teams", json={"name": team}, headers=oo))
        teams = f"/api/v1/orgs/{ORG}/teams/{team}"
        ok(http.post(f"{teams}/members", json={"username": user}, headers=oo))
        ok(http.put(f"{teams}/roles", json={"component": NAME, "role": role}, headers=oo))
    # Tokens that the rules must see through: another component's, and one without the action.
    t["scoped"] = token_for(live, "owner", components=["other-comp"])
    t["yank-only"] = token_for(live, "owner", actions=["yank"])
    # A trusted publisher's minted token: upload only, to this component only, no role at all.
    t["oidc"] = token_for(live, "ci-bot", components=[NAME], actions=["upload"], origin="oidc")
    w.standing_invitation = w.invite("standing", "maintainer")
    return w


# -- actions: each returns (status, problem-or-body); `allowed` says whether to set up a real run


Outcome = tuple[int, dict[str, Any]]


def _http(r: httpx.Response) -> Outcome:
    return r.status_code, r.json() if r.content else {}


def act_upload(w: World, token: str | None, allowed: bool) -> Outcome:
    version = f"2.{next(w.counter)}"
    return _http(upload(w.http, token, wheel(w.source, w.out, NAME, version)))


def act_yank(w: World, token: str | None, allowed: bool) -> Outcome:
    url = f"/api/v1/components/{NAME}/1.0.0/yank"
    return _http(w.http.post(url, json={"reason": ""}, headers=bearer(token)))


def act_unyank(w: World, token: str | None, allowed: bool) -> Outcome:
    url = f"/api/v1/components/{NAME}/1.0.0/unyank"
    return _http(w.http.post(url, json={}, headers=bearer(token)))


def act_delete_file(w: World, token: str | None, allowed: bool) -> Outcome:
    version, filename = w.fresh_version() if allowed else ("1.0.0", "x.whl")
    url = f"/api/v1/components/{NAME}/{version}/files/{filename}"
    return _http(w.http.delete(url, headers=bearer(token)))


def act_delete_release(w: World, token: str | None, allowed: bool) -> Outcome:
    version = w.fresh_version()[0] if allowed else "1.0.0"
    return _http(w.http.delete(f"/api/v1/components/{NAME}/{version}", headers=bearer(token)))


def act_invite(w: World, token: str | None, allowed: bool) -> Outcome:
    body = {"username": "invitee", "role": "maintainer"}
    out = _http(w.http.post(f"/api/v1/components/{NAME}/roles", json=body, headers=bearer(token)))
    if out[0] == 201:  # revoked at once, so the next allowed invite is not a duplicate
        w.owner_call("DELETE", f"/api/v1/invitations/{out[1]['id']}")
    return out


def act_revoke_invitation(w: World, token: str | None, allowed: bool) -> Outcome:
    invitation = w.standing_invitation
    if allowed:
        invitation = w.invite("invitee", "owner")
    return _http(w.http.delete(f"/api/v1/invitations/{invitation}", headers=bearer(token)))


def act_remove_role(w: World, token: str | None, allowed: bool) -> Outcome:
    if allowed:  # victim gets the role back first

        async def regrant(hub: Hub) -> None:
            async with hub.sessions() as session:
                c = await lookup.component(session, NAME)
                victim = await lookup.user(session, "victim")
                await roles.grant(session, c, victim.id, "maintainer")
                await session.commit()

        w.live.run(regrant)
    return _http(w.http.delete(f"/api/v1/components/{NAME}/roles/victim", headers=bearer(token)))


def act_publishers(w: World, token: str | None, allowed: bool) -> Outcome:
    body = {"kind": "github", "repository": f"acme/r{next(w.counter)}", "workflow": "ci.yml"}
    url = f"/api/v1/components/{NAME}/publishers"
    return _http(w.http.post(url, json=body, headers=bearer(token)))


def act_settings(w: World, token: str | None, allowed: bool) -> Outcome:
    body = {"require_attestations": False}
    return _http(w.http.patch(f"/api/v1/components/{NAME}", json=body, headers=bearer(token)))


def act_transfer(w: World, token: str | None, allowed: bool) -> Outcome:
    url = f"/api/v1/components/{NAME}/transfer"  # into the organization it is in: a no-op
    return _http(w.http.post(url, json={"organization": ORG}, headers=bearer(token)))


def act_events(w: World, token: str | None, allowed: bool) -> Outcome:
    return _http(w.http.get(f"/api/v1/components/{NAME}/events", headers=bearer(token)))


def act_advisory(w: World, token: str | None, allowed: bool) -> Outcome:
    body = {"summary": "table check", "affected": [{"versions": ["1.0.0"]}]}
    url = f"/api/v1/components/{NAME}/advisories"
    return _http(w.http.post(url, json=body, headers=bearer(token)))


def act_quarantine(w: World, token: str | None, allowed: bool) -> Outcome:
    url = f"/api/v1/admin/components/{NAME}/quarantine"
    out = _http(w.http.post(url, json={"reason": "table check"}, headers=bearer(token)))
    if out[0] == 200:
        ok(w.http.delete(url, headers=bearer(token)))
    return out


def act_prohibit(w: World, token: str | None, allowed: bool) -> Outcome:
    body = {"name": f"banned-{next(w.counter)}", "reason": "table check"}
    return _http(w.http.post("/api/v1/admin/prohibited-names", json=body, headers=bearer(token)))


Act = Callable[[World, str | None, bool], Outcome]
# action -> (how, the RULES entry or "admin")
ACTIONS: dict[str, tuple[Act, str]] = {
    "upload": (act_upload, "upload"),
    "yank": (act_yank, "yank"),
    "unyank": (act_unyank, "unyank"),
    "delete file": (act_delete_file, "delete"),
    "delete release": (act_delete_release, "delete"),
    "invite (add role)": (act_invite, "roles"),
    "revoke invitation": (act_revoke_invitation, "roles"),
    "remove role": (act_remove_role, "roles"),
    "publishers add": (act_publishers, "publishers"),
    "settings": (act_settings, "settings"),
    "transfer": (act_transfer, "transfer"),
    "read events": (act_events, "events"),
    "publish advisory": (act_advisory, "advisories"),
    "quarantine": (act_quarantine, "admin"),
    "prohibit": (act_prohibit, "admin"),
}

MAINTAINER = {"upload", "yank", "unyank"}
OWNER = {a for a, (_, rule) in ACTIONS.items() if rule != "admin"}
ADMIN = {"quarantine", "prohibit"}


def row(allowed: set[str], otherwise: str, **special: str) -> dict[str, str]:
    """Each action's outcome: "ok" if allowed; else `otherwise` ("role", "scope", "action",
    "admin" for the admin actions, "401"), or the one given by name."""
    out = {}
    for action in ACTIONS:
        if action in allowed:
            out[action] = "ok"
        elif action in ADMIN and otherwise in ("role", "scope", "action"):
            out[action] = "admin"
        else:
            out[action] = otherwise
    out.update({k.replace("_", " "): v for k, v in special.items()})
    return out


# Transfer also takes an owner of the target organization: owners through a direct role or a
# team are refused by that second rule (still a 403 naming the role and its grantors).
TABLE: dict[str, dict[str, str]] = {
    "anonymous": row(set(), "401"),
    "owner": row(OWNER, "role", transfer="org"),
    "maint": row(MAINTAINER, "role"),
    "unrelated": row(set(), "role"),
    "orgowner": row(OWNER, "role"),
    "orgmember": row(set(), "role"),
    "teammaint": row(MAINTAINER, "role"),
    "teamowner": row(OWNER, "role", transfer="org"),
    "scoped": row(set(), "scope"),
    "yank-only": row({"yank", "unyank"}, "action"),
    "admin": row(ADMIN | {"publish advisory"}, "role"),  # admins publish advisories anywhere
    "oidc": row({"upload"}, "action"),
}

CASES = [
    pytest.param(actor, action, expected, id=f"{actor}-{action}")
    for actor, outcomes in TABLE.items()
    for action, expected in outcomes.items()
]


def test_the_table_covers_every_rule_and_action() -> None:
    assert {rule for _, rule in ACTIONS.values()} == {*RULES, "admin"}
    assert all(set(outcomes) == set(ACTIONS) for outcomes in TABLE.values())


@pytest.mark.parametrize(("actor", "action", "expected"), CASES)
def test_permission_table(world: World, actor: str, action: str, expected: str) -> None:
    how, rule = ACTIONS[action]
    status, body = how(world, world.tokens[actor], expected == "ok")
    if expected == "ok":
        assert status in (200, 201), body
        return
    if expected == "401":
        assert status == 401 and body["code"] == "auth.missing", body
        return
    assert status == 403, body
    code, detail, extra = body["code"], body["detail"], body.get("extra") or {}
    if expected == "admin":
        assert code == "auth.admin", body
        assert "only a hub admin may" in detail and "pysetl-hub-server admin grant" in detail
    elif expected == "scope":
        assert code == "auth.scope" and "scoped to other components" in detail, body
    elif expected == "action":
        assert code == "auth.token_action", body
        assert extra["needed_action"] == RULES[rule].token_action
        assert f"with the {RULES[rule].token_action!r} action" in detail
    elif expected == "role":
        assert code == "auth.role", body
        needed = RULES[rule].role
        assert extra["needed_role"] == needed
        words = "owner" if needed == "owner" else "maintainer or owner"
        assert f"that needs the {words} role" in detail
        assert extra["granted_by"] == ["orgowner", "owner"]
        assert "an owner (orgowner, owner) can grant it" in detail
    else:  # "org": the organization half of transfer
        assert code == "auth.role" and extra["needed_role"] == "owner", body
        assert f"needs the owner role in the organization {ORG!r}" in detail
        assert extra["granted_by"] == ["orgowner"] and "(orgowner)" in detail


def test_a_denial_names_the_role_and_who_can_grant_it(world: World) -> None:
    """The maintainer who tries to delete learns what is missing, who can grant it, and how."""
    r = world.http.delete(f"/api/v1/components/{NAME}/1.0.0", headers=bearer(world.tokens["maint"]))
    assert r.status_code == 403
    body = r.json()
    assert body["detail"] == (
        f"user 'maint' may not delete files or releases of {NAME!r}: that needs the owner role "
        "and 'maint' has the maintainer role; an owner (orgowner, owner) can grant it with "
        f"`pysetl-hub owners add {NAME} maint`"
    )
    assert body["extra"] == {
        "needed_role": "owner",
        "role": "maintainer",
        "granted_by": ["orgowner", "owner"],
    }
    # Someone with no role at all hears the same grantors.
    unrelated = bearer(world.tokens["unrelated"])
    r = world.http.delete(f"/api/v1/components/{NAME}/1.0.0", headers=unrelated)
    assert "'unrelated' has no role; an owner (orgowner, owner) can grant it" in r.json()["detail"]


def test_the_roles_list_shows_every_source_and_no_email(world: World) -> None:
    listing = world.http.get(f"/api/v1/components/{NAME}/roles")
    assert listing.status_code == 200
    entries = {(e["username"], e["role"], e["via"]) for e in listing.json()["roles"]}
    assert {
        ("owner", "owner", "direct"),
        ("maint", "maintainer", "direct"),
        ("orgowner", "owner", "organization"),
        ("teammaint", "maintainer", "team:devs"),
        ("teamowner", "owner", "team:leads"),
    } <= entries
    assert listing.json()["organization"] == ORG
    assert "@" not in listing.text


def test_the_table_rows_are_real_roles(world: World) -> None:
    """The actors hold what their names say (so the table tests the rules, not typos)."""

    async def go(hub: Hub) -> dict[str, str | None]:
        from pysetl_hub_server.accounts.permissions import effective_role

        async with hub.sessions() as session:
            c = await lookup.component(session, NAME)
            found = {}
            for name in ("owner", "maint", "orgowner", "orgmember", "teammaint", "teamowner"):
                user = await lookup.user(session, name)
                found[name] = await effective_role(session, user.id, c)
            assert isinstance(c, models.Component) and c.org_id is not None
            return found

    assert world.live.run(go) == {
        "owner": "owner",
        "maint": "maintainer",
        "orgowner": "owner",
        "orgmember": None,
        "teammaint": "maintainer",
        "teamowner": "owner",
    }


def test_the_documented_table_is_the_rules() -> None:
    """docs/concepts/governance.md shows RULES as they are."""
    doc = (Path(__file__).resolve().parents[3] / "docs/concepts/governance.md").read_text()
    shown = doc.split("<!-- permissions:start", 1)[1].split("<!-- permissions:end -->", 1)[0]
    rows = [line for line in shown.splitlines()[1:] if line.startswith("|")]
    expected = [
        "| rule | least role | token action | refused as |",
        "| --- | --- | --- | --- |",
        *(
            f"| `{name}` | {r.role} | `{r.token_action}` | may not {r.words} |"
            for name, r in RULES.items()
        ),
    ]
    assert rows == expected
