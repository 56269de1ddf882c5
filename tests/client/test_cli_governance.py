"""`owners`, `maintainers`, `invitations`, `orgs` and `delete` with the real CLI against a live
hub: alice (who published csv-dedupe) shares it, bob answers, and an organization takes it."""

from __future__ import annotations

import json

from click.testing import Result

from tests.support.live import LiveServer


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def pending_id(run, token: str) -> int:  # type: ignore[no-untyped-def]
    listing = json.loads(ok(run("invitations", "--json", token=token)).stdout)["invitations"]
    return int(next(i["id"] for i in listing if i["status"] == "pending"))


def test_owners_maintainers_and_invitations(run, live: LiveServer, published_catalog: str) -> None:  # type: ignore[no-untyped-def]
    alice, bob = published_catalog, live.user_with_token("bob")
    added = ok(run("maintainers", "add", "csv-dedupe", "bob", token=alice))
    assert "bob as maintainer of csv-dedupe: pending" in added.stderr
    assert "pysetl-hub invitations accept" in added.stderr
    listing = ok(run("invitations", token=bob)).stderr
    assert "csv-dedupe" in listing and "maintainer" in listing and "alice" in listing
    invitation = pending_id(run, bob)
    assert "accepted" in ok(run("invitations", "accept", str(invitation), token=bob)).stderr
    roles = ok(run("maintainers", "list", "csv-dedupe")).stderr
    assert "bob" in roles and "alice" not in roles  # the list shows maintainers only
    assert "alice" in ok(run("owners", "list", "csv-dedupe")).stderr
    as_json = json.loads(ok(run("owners", "list", "csv-dedupe", "--json")).stdout)
    assert {(r["username"], r["role"]) for r in as_json["roles"]} == {
        ("alice", "owner"),
        ("bob", "maintainer"),
    }

    # bob may not invite; the refusal names the role and who grants it (exit 8).
    refused = run("owners", "add", "csv-dedupe", "bob", token=bob)
    assert refused.exit_code == 8 and "an owner (alice) can grant it" in refused.stderr
    # Promotion by invitation; bob declines it, then alice revokes a second one.
    ok(run("owners", "add", "csv-dedupe", "bob", token=alice))
    declined = ok(run("invitations", "decline", str(pending_id(run, bob)), token=bob))
    assert "declined" in declined.stderr
    ok(run("owners", "add", "csv-dedupe", "bob", token=alice))
    revoked = ok(run("invitations", "revoke", str(pending_id(run, bob)), token=alice))
    assert "revoked" in revoked.stderr

    # The last owner cannot leave (exit 1, the hub's words, no misleading hint).
    last = run("owners", "remove", "csv-dedupe", "alice", token=alice)
    assert last.exit_code == 1 and "add another owner first" in last.stderr
    assert "bump the version" not in last.stderr
    ok(run("maintainers", "remove", "csv-dedupe", "bob", token=bob))  # bob leaves
    assert "bob" not in ok(run("maintainers", "list", "csv-dedupe")).stderr


def test_orgs_and_transfer(run, live: LiveServer, published_catalog: str) -> None:  # type: ignore[no-untyped-def]
    alice, carol = published_catalog, live.user_with_token("carol")
    created = ok(run("orgs", "create", "etl-co", token=alice)).stderr
    assert "organization etl-co" in created and "alice" in created
    ok(run("orgs", "members", "add", "etl-co", "carol", token=alice))
    ok(run("invitations", "accept", str(pending_id(run, carol)), token=carol))
    ok(run("orgs", "teams", "create", "etl-co", "core", token=alice))
    ok(run("orgs", "teams", "add", "etl-co", "core", "carol", token=alice))
    ok(run("orgs", "transfer", "csv-dedupe", "etl-co", token=alice))
    ok(run("orgs", "teams", "grant", "etl-co", "core", "csv-dedupe", token=alice))
    shown = json.loads(ok(run("orgs", "show", "etl-co", "--json")).stdout)
    assert shown["components"] == ["csv-dedupe"]
    team_roles = [{"component": "csv-dedupe", "role": "maintainer"}]
    assert shown["teams"] == [{"name": "core", "members": ["carol"], "roles": team_roles}]
    assert {(m["username"], m["role"]) for m in shown["members"]} == {
        ("alice", "owner"),
        ("carol", "member"),
    }
    roles = ok(run("maintainers", "list", "csv-dedupe")).stderr
    assert "carol" in roles and "team:core" in roles
    # carol may yank now, through her team.
    ok(run("yank", "csv-dedupe", "1.0.0", token=carol))
    ok(run("orgs", "teams", "remove", "etl-co", "core", "carol", token=alice))
    assert run("unyank", "csv-dedupe", "1.0.0", token=carol).exit_code == 8
    ok(run("orgs", "members", "remove", "etl-co", "carol", token=carol))  # carol leaves


def test_delete(run, published_catalog: str) -> None:  # type: ignore[no-untyped-def]
    alice = published_catalog
    unsure = run("delete", "csv-dedupe", "1.0.0", token=alice)
    assert unsure.exit_code == 2 and "add --yes" in unsure.stderr
    wheel = "csv_dedupe-1.0.0-py3-none-any.whl"
    one = ok(run("delete", "csv-dedupe", "1.0.0", wheel, "--yes", token=alice))
    assert f"deleted {wheel} of csv-dedupe" in one.stderr
    files = json.loads(ok(run("info", "csv-dedupe==1.0.0", "--json")).stdout)["files"]
    assert [f["packagetype"] for f in files] == ["sdist"]
    everything = ok(run("delete", "csv-dedupe", "1.0.0", "--yes", token=alice))
    assert "release 1.0.0 is gone; its filenames stay taken" in everything.stderr
    assert run("info", "csv-dedupe==1.0.0").exit_code == 3
