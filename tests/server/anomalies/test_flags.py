"""Each anomaly flag from a scripted history, through the live API (publishes, role
invitations, trusted publishing with a local OIDC issuer, real downloads; past days of
download counts are written to the database, the hub only counts today): it fires on the
suspicious history and stays quiet on a normal one. Then who may read flags."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from pysetl_hub_server.accounts.permissions import Identity
from pysetl_hub_server.anomalies.publish import check_upload
from pysetl_hub_server.db import models
from pysetl_hub_server.hub import Hub
from tests.server.anomalies.conftest import Scripted
from tests.support.dists import Members
from tests.support.governance import accept_all, bearer

MINT = "/api/v1/oidc/mint-token"


def _mint(s: Scripted, owner: str, name: str, repo: str) -> str:
    publisher = {"kind": "github", "repository": repo, "workflow": "release.yml"}
    r = s.http.post(f"/api/v1/components/{name}/publishers", json=publisher, headers=bearer(owner))
    assert r.status_code == 201 or r.json()["code"] == "publisher.exists", r.text
    minted = s.http.post(MINT, json={"token": s.issuer.sign(s.issuer.claims(repository=repo))})
    assert minted.status_code == 200, minted.text
    token: str = minted.json()["token"]
    return token


def test_publisher_identity_change(scripted: Scripted) -> None:
    s = scripted
    alice = s.token("alice")
    # normal: two releases from the one publisher
    steady = _mint(s, alice, "pc-steady", "acme/pc-steady")
    s.publish(steady, s.wheel("pc-steady", "1.0.0"))
    s.publish(_mint(s, alice, "pc-steady", "acme/pc-steady"), s.wheel("pc-steady", "1.1.0"))
    assert s.kinds("pc-steady", alice) == []

    # suspicious: the next release comes from a publisher the earlier ones never came from
    s.publish(_mint(s, alice, "pc-moved", "acme/pc-moved"), s.wheel("pc-moved", "1.0.0"))
    assert s.kinds("pc-moved", alice) == []
    s.publish(_mint(s, alice, "pc-moved", "mallory/pc-moved"), s.wheel("pc-moved", "1.1.0"))
    [flag] = s.flags("pc-moved", alice)
    assert flag["kind"] == "publisher_changed" and flag["component"] == "pc-moved"
    assert flag["detail"]["version"] == "1.1.0"
    assert flag["detail"]["publisher"] == "publisher:github:mallory/pc-moved/release.yml"
    assert flag["detail"]["previous"] == ["publisher:github:acme/pc-moved/release.yml"]


def test_new_owner_publishing_within_a_day(scripted: Scripted) -> None:
    s = scripted
    alice, bob, carol = s.token("alice"), s.token("bob"), s.token("carol")
    # the creator publishing is never "new"
    s.publish(alice, s.wheel("no-fresh", "1.0.0"))
    invite = {"username": "bob", "role": "owner"}
    r = s.http.post("/api/v1/components/no-fresh/roles", json=invite, headers=bearer(alice))
    assert r.status_code == 201, r.text
    accept_all(s.http, bob)
    assert s.kinds("no-fresh", alice) == []
    s.publish(bob, s.wheel("no-fresh", "1.1.0"))
    [flag] = s.flags("no-fresh", alice)
    assert flag["kind"] == "new_owner_publish"
    assert flag["detail"]["username"] == "bob" and flag["detail"]["role"] == "owner"
    assert flag["detail"]["version"] == "1.1.0" and flag["detail"]["hours_since_joining"] < 1

    # the same check at explicit times: carol joined, her upload is judged a day later
    s.publish(alice, s.wheel("no-later", "1.0.0"))
    invite = {"username": "carol", "role": "maintainer"}
    assert s.http.post("/api/v1/components/no-later/roles", json=invite,
                       headers=bearer(alice)).status_code == 201  # fmt: skip
    accept_all(s.http, carol)
    s.publish(alice, s.wheel("no-later", "1.1.0"))  # alice is no newcomer: no flag
    assert s.kinds("no-later", alice) == []

    async def judge(hub: Hub, hours: float) -> None:
        async with hub.sessions() as session:
            user = await session.scalar(select(models.User).where(models.User.username == "carol"))
            joined = await session.scalar(
                select(models.AuditEvent.created).where(
                    models.AuditEvent.action == "role.add",
                    models.AuditEvent.user_id == user.id if user else None,
                )
            )
            assert user is not None and joined is not None
            who = Identity(user.id, "carol", None)
            filename = "no_later-1.1.0-py3-none-any.whl"
            await check_upload(session, hub, who, filename, joined + timedelta(hours=hours))
            await session.commit()

    s.run(lambda hub: judge(hub, 25))
    assert s.kinds("no-later", alice) == []
    s.run(lambda hub: judge(hub, 23))
    [flag] = s.flags("no-later", alice)
    assert flag["kind"] == "new_owner_publish" and flag["detail"]["role"] == "maintainer"


def _download(s: Scripted, url: str, times: int) -> None:
    for _ in range(times):
        assert s.http.get(url).status_code == 200


def test_download_spike_against_the_components_own_baseline(scripted: Scripted) -> None:
    s = scripted
    alice = s.token("alice")
    calm_url = s.publish(alice, s.wheel("calm-etl", "1.0.0")).json()["url"]
    spiky_url = s.publish(alice, s.wheel("spiky-etl", "1.0.0")).json()["url"]
    today = datetime.now(UTC).date()
    past = [today - timedelta(days=d) for d in range(1, 11)]
    # spiky: a few downloads a day; calm: around 30 a day, so 35 today is ordinary
    s.history("spiky-etl", dict(zip(past, [3, 5, 4, 4, 6, 3, 4, 5, 4, 4], strict=True)))
    s.history("calm-etl", dict(zip(past, [30, 28, 33, 31, 29, 30, 32, 27, 30, 31], strict=True)))
    _download(s, calm_url, 35)  # first: flushed no later than spiky's
    _download(s, spiky_url, 40)

    flag = s.wait_for_flag("spiky-etl", alice, "download_spike")
    detail: dict[str, Any] = flag["detail"]
    # Raised at the first check that sees today's count past both the threshold and the
    # minimum count (20 here): the periodic check may run while the downloads still arrive.
    assert detail["day"] == today.isoformat() and 20 <= detail["downloads"] <= 40
    assert detail["median"] == 4.0 and detail["mad"] == 1.0 and detail["threshold"] == 9.0
    assert detail["history_days"] == 10
    time.sleep(1)  # a few more periodic checks
    assert s.kinds("calm-etl", alice) == []
    assert s.kinds("spiky-etl", alice) == ["download_spike"]  # raised once, not every tick


def test_a_new_name_close_to_a_popular_one(scripted: Scripted) -> None:
    s = scripted
    alice, mallory = s.token("alice"), s.token("mallory")
    s.publish(alice, s.wheel("popular-loader", "1.0.0"))
    s.publish(alice, s.wheel("quiet-loader", "1.0.0"))
    days = {date(2026, 1, d): 20 for d in range(1, 6)}  # 100 downloads, quiet has none
    s.history("popular-loader", days)

    s.publish(mallory, s.wheel("popular-laoder", "1.0.0"))  # two letters swapped
    [flag] = s.flags("popular-laoder", mallory)
    assert flag["kind"] == "name_confusion"
    assert flag["detail"] == {
        "key": "popular-loader",
        "similar_to": "popular-loader",
        "their_downloads": 100,
        "distance": 1,
        "rule": "edit distance <= 2",
    }
    # normal: close to a name nobody downloads, or far from every popular name
    s.publish(mallory, s.wheel("quiet-laoder", "1.0.0"))
    s.publish(mallory, s.wheel("unrelated-name", "1.0.0"))
    assert s.kinds("quiet-laoder", mallory) == [] and s.kinds("unrelated-name", mallory) == []
    # a look-alike (only the popular one's owner may take it) is flagged by the folded name
    s.publish(alice, s.wheel("popular-l0ader", "1.0.0"))
    [look] = s.flags("popular-l0ader", alice)
    assert look["detail"]["rule"] == "ultranormalized"


def _with_pth(name: str) -> Any:
    def add(members: Members) -> None:
        members[name] = b"import os\n"

    return add


def test_a_release_that_adds_install_time_code(scripted: Scripted) -> None:
    s = scripted
    alice = s.token("alice")
    # a new .pth file in a wheel
    s.publish(alice, s.wheel("hooked-etl", "1.0.0"))
    s.publish(alice, s.wheel("hooked-etl", "1.1.0", mutate=_with_pth("zz_hooked.pth")))
    [flag] = s.flags("hooked-etl", alice)
    assert flag["kind"] == "install_time_code"
    assert flag["detail"]["reason"] == "new .pth file" and flag["detail"]["pth"] == [
        "zz_hooked.pth"
    ]
    # normal: the .pth was there from the start
    s.publish(alice, s.wheel("pthful-etl", "1.0.0", mutate=_with_pth("pthful.pth")))
    s.publish(alice, s.wheel("pthful-etl", "1.1.0", mutate=_with_pth("pthful.pth")))

    # an sdist where earlier releases had wheels (the periodic check, no grace in this hub)
    s.publish(alice, s.wheel("sdist-turn", "1.0.0"))
    s.publish(alice, s.sdist("sdist-turn", "1.1.0"))
    # normal: sdists from the start, and wheels uploaded before their sdist
    s.publish(alice, s.sdist("sdist-always", "1.0.0"))
    s.publish(alice, s.sdist("sdist-always", "1.1.0"))
    s.publish(alice, s.wheel("both-ways", "1.0.0"))
    s.publish(alice, s.wheel("both-ways", "1.1.0"))
    s.publish(alice, s.sdist("both-ways", "1.1.0"))
    flag = s.wait_for_flag("sdist-turn", alice, "install_time_code")
    assert flag["detail"]["reason"] == "sdist without wheels"
    assert flag["detail"]["version"] == "1.1.0"
    assert flag["detail"]["previous_version_with_wheels"] == "1.0.0"
    time.sleep(1)
    for quiet in ("pthful-etl", "sdist-always", "both-ways"):
        assert s.kinds(quiet, alice) == [], quiet


def test_flags_are_for_owners_and_admins(scripted: Scripted) -> None:
    s = scripted
    alice, eve = s.token("alice"), s.token("eve")
    admin = s.token("root", admin=True)
    s.publish(alice, s.wheel("owned-etl", "1.0.0"))
    s.publish(alice, s.wheel("owned-etl", "1.1.0", mutate=_with_pth("zz_owned.pth")))
    assert s.kinds("owned-etl", alice) == ["install_time_code"]

    stranger = s.http.get("/api/v1/components/owned-etl/flags", headers=bearer(eve))
    assert stranger.status_code == 403
    assert stranger.headers["content-type"].startswith("application/problem+json")
    anonymous = s.http.get("/api/v1/components/owned-etl/flags")
    assert anonymous.status_code in (401, 403)
    missing = s.http.get("/api/v1/components/no-such-thing/flags", headers=bearer(alice))
    assert missing.status_code == 404

    assert s.http.get("/api/v1/admin/flags", headers=bearer(alice)).status_code == 403
    every = s.http.get("/api/v1/admin/flags", headers=bearer(admin), params={"per_page": 100})
    assert every.status_code == 200
    for path in ("/api/v1/admin/flags", "/api/v1/components/owned-etl/flags"):
        # a cursor past the 64-bit id column is a 400 problem, not the database's 500
        past = s.http.get(path, headers=bearer(admin), params={"before": 2**63})
        assert past.status_code == 400, past.text
        assert past.headers["content-type"].startswith("application/problem+json")
    assert ("owned-etl", "install_time_code") in {
        (f["component"], f["kind"]) for f in every.json()["flags"]
    }
    # the flag is an audit event like any other, in the component's trail
    events = s.http.get("/api/v1/components/owned-etl/events", headers=bearer(alice)).json()
    assert "flag.raise" in [e["action"] for e in events["events"]]

    async def actor(hub: Hub) -> str | None:
        async with hub.sessions() as session:
            return await session.scalar(
                select(models.AuditEvent.actor).where(models.AuditEvent.action == "flag.raise")
            )

    assert s.run(actor) == "anomaly-check"
