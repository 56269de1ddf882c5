"""Webhooks end to end: a receiver on loopback fails on purpose (500, no answer in time,
redirects) then succeeds. The hub signs each delivery, retries with backoff from its outbox,
logs every attempt, redelivers on request, and disables a webhook that keeps failing."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from pysetl_hub_schemas.webhooks import SIGNATURE_HEADER, verify_signature
from pysetl_hub_server.db import models
from pysetl_hub_server.hub import Hub
from tests.server.feed.conftest import FAST, Replicas
from tests.server.feed.receiver import Received, receiver
from tests.support.governance import bearer, token_for
from tests.support.upload import problem


def deliveries(http: httpx.Client, token: str, hook: int) -> list[dict[str, Any]]:
    r = http.get(f"/api/v1/me/webhooks/{hook}/deliveries", headers=bearer(token))
    assert r.status_code == 200, r.text
    return list(r.json()["deliveries"])


def settle(http: httpx.Client, token: str, hook: int, test: Any, seconds: float = 20) -> list[Any]:
    deadline = time.monotonic() + seconds
    while True:
        found = deliveries(http, token, hook)
        if test(found):
            return found
        assert time.monotonic() < deadline, found
        time.sleep(0.1)


def test_signed_retried_logged_and_redelivered(replicas: Replicas) -> None:
    dora, erin = token_for(replicas.a, "dora"), token_for(replicas.a, "erin")
    # the first request fails with a 500, the second gets no answer in time, then 200s
    script = {0: 500, 1: "slow"}
    with (
        receiver(lambda n: script.get(n, 200)) as rx,
        httpx.Client(base_url=replicas.a.url, timeout=30) as http,
    ):
        r = http.post(
            "/api/v1/me/webhooks",
            json={"url": rx.url, "events": ["release.create", "release.yank"]},
            headers=bearer(dora),
        )
        assert r.status_code == 201, r.text
        secret, hook = r.json()["secret"], r.json()["webhook"]["id"]
        assert secret.startswith("whsec_")
        listed = http.get("/api/v1/me/webhooks", headers=bearer(dora)).json()
        assert [w["id"] for w in listed] == [hook] and "secret" not in listed[0]  # shown once
        # someone else's component: dora's webhook must not hear of it
        replicas.publish(replicas.b, erin, "feed-elsewhere", "1.0.0")
        replicas.publish(replicas.b, dora, "feed-hook", "1.0.0")
        log = settle(http, dora, hook, lambda d: len(d) == 1 and d[0]["status"] == "delivered")
        first = log[0]
        assert first["action"] == "release.create"
        assert [a["response_code"] for a in first["log"]] == [500, None, 200]
        assert "no answer within" in first["log"][1]["error"]
        assert first["log"][1]["duration_ms"] >= FAST.webhook_timeout * 1000 * 0.9
        assert first["attempts"] == 3

        got = [g for g in rx.got if g.path == "/hook"]
        assert len(got) == 3
        # backoff: the second try waits >= backoff, the third >= 2 x backoff after the second
        assert got[1].at - got[0].at >= FAST.webhook_backoff * 0.9
        assert got[2].at - got[1].at >= FAST.webhook_timeout * 0.9
        for g in got:
            check_signed(g, secret)
            body = json.loads(g.body)
            assert body["webhook"] == hook and body["delivery"] == first["id"]
            assert body["change"]["component"] == "feed-hook"
            assert g.headers["X-Hub-Event"] == "release.create"
        assert all(json.loads(g.body)["change"]["component"] != "feed-elsewhere" for g in rx.got)

        # redeliver: a new delivery of the same change, signed again
        r = http.post(
            f"/api/v1/me/webhooks/{hook}/deliveries/{first['id']}/redeliver", headers=bearer(dora)
        )
        assert r.status_code == 202, r.text
        again = r.json()["id"]
        assert r.json()["redelivery_of"] == first["id"]
        rx.wait_for(lambda got: any(json.loads(g.body)["delivery"] == again for g in got))
        copy = next(g for g in rx.got if json.loads(g.body)["delivery"] == again)
        check_signed(copy, secret)
        assert json.loads(copy.body)["change"] == json.loads(got[-1].body)["change"]
        settle(http, dora, hook, lambda d: d[0]["id"] == again and d[0]["status"] == "delivered")

        # nobody else reads or redelivers dora's webhook
        r = http.get(f"/api/v1/me/webhooks/{hook}/deliveries", headers=bearer(erin))
        assert r.status_code == 404
        problem(r)


def check_signed(got: Received, secret: str) -> None:
    header = got.headers[SIGNATURE_HEADER]
    assert verify_signature(secret, got.body, header)
    assert not verify_signature("whsec_wrong", got.body, header)
    assert not verify_signature(secret, got.body + b" ", header)
    stamp = int(header.split(",")[0].removeprefix("t="))
    assert not verify_signature(secret, got.body, header, now=stamp + 301)  # replayed late


def test_repeated_failure_disables_the_webhook(replicas: Replicas) -> None:
    fay = token_for(replicas.a, "fay")
    with (
        receiver(lambda n: "redirect" if n % 2 else 500) as rx,
        httpx.Client(base_url=replicas.a.url, timeout=30) as http,
    ):
        r = http.post(
            "/api/v1/me/webhooks",
            json={"url": rx.url, "events": ["release.create", "file.upload"]},
            headers=bearer(fay),
        )
        hook = r.json()["webhook"]["id"]
        replicas.publish(replicas.b, fay, "feed-down", "1.0.0")
        deadline = time.monotonic() + 20
        while http.get(f"/api/v1/me/webhooks/{hook}", headers=bearer(fay)).json()["active"]:
            assert time.monotonic() < deadline, json.dumps(deliveries(http, fay, hook))
            time.sleep(0.1)
        view = http.get(f"/api/v1/me/webhooks/{hook}", headers=bearer(fay)).json()
        # (an attempt already in flight when it was disabled may still be counted)
        assert view["consecutive_failures"] >= FAST.webhook_disable_after
        assert "failed deliveries in a row" in view["disabled_reason"]
        # redirects are failures, and never followed
        assert all(g.path == "/hook" for g in rx.got)
        codes = [a["response_code"] for d in deliveries(http, fay, hook) for a in d["log"]]
        assert sorted(set(codes)) == [302, 500]
        assert len(codes) >= FAST.webhook_disable_after
        exhausted = [d for d in deliveries(http, fay, hook) if d["attempts"] >= 3]
        assert exhausted and all(d["status"] == "failed" for d in exhausted)
        for d in exhausted:  # exponential backoff: backoff, then twice that
            at = [datetime.fromisoformat(a["at"]).timestamp() for a in d["log"]]
            assert at[1] - at[0] >= FAST.webhook_backoff * 0.9
            assert at[2] - at[1] >= 2 * FAST.webhook_backoff * 0.9

        async def disabled(hub: Hub) -> list[dict[str, Any]]:
            async with hub.sessions() as session:
                rows = await session.scalars(
                    select(models.AuditEvent.detail).where(
                        models.AuditEvent.action == "webhook.disable",
                        models.AuditEvent.target == "user:fay",
                    )
                )
                return list(rows)

        assert [d["webhook"] for d in replicas.a.run(disabled)] == [hook]
        # nothing more is sent while disabled (once an attempt already in flight has landed);
        # enabling it again resets the count
        time.sleep(FAST.webhook_timeout + 0.5)
        seen = len(rx.got)
        time.sleep(0.5)
        assert len(rx.got) == seen
        r = http.patch(f"/api/v1/me/webhooks/{hook}", json={"active": True}, headers=bearer(fay))
        assert r.json()["active"] and r.json()["consecutive_failures"] == 0
        assert r.json()["disabled_reason"] is None
        assert http.delete(f"/api/v1/me/webhooks/{hook}", headers=bearer(fay)).status_code == 204


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"url": "ftp://example.org/x", "events": ["release.create"]}, "webhook.url"),
        (
            {"url": "https://u:p@example.org/x", "events": ["release.create"]},
            "webhook.url_credentials",
        ),
        ({"url": "https://example.org/x", "events": ["user.create"]}, "webhook.events"),
        ({"url": "https://example.org/x", "events": []}, None),
    ],
)
def test_bad_webhooks_are_refused(
    replicas: Replicas, body: dict[str, Any], code: str | None
) -> None:
    gus = token_for(replicas.a, "gus")
    with httpx.Client(base_url=replicas.a.url, timeout=30) as http:
        r = http.post("/api/v1/me/webhooks", json=body, headers=bearer(gus))
        assert r.status_code == 400, r.text
        if code:
            assert problem(r)["code"] == code
        assert http.get("/api/v1/me/webhooks", headers=bearer(gus)).json() == []  # nothing made


def test_an_organization_webhook_sees_the_organization_s_components(replicas: Replicas) -> None:
    hal, ivy = token_for(replicas.a, "hal"), token_for(replicas.a, "ivy")
    with receiver(lambda n: 200) as rx, httpx.Client(base_url=replicas.a.url, timeout=30) as http:
        assert http.post("/api/v1/orgs/", json={"name": "feedorg"}, headers=bearer(hal)).is_success
        replicas.publish(replicas.b, hal, "feed-org-comp", "1.0.0")
        r = http.post(
            "/api/v1/components/feed-org-comp/transfer",
            json={"organization": "feedorg"},
            headers=bearer(hal),
        )
        assert r.status_code == 200, r.text
        # only the organization's owners manage its webhooks
        body = {"url": rx.url, "events": ["release.create"]}
        r = http.post("/api/v1/orgs/feedorg/webhooks", json=body, headers=bearer(ivy))
        assert r.status_code == 403
        assert http.get("/api/v1/orgs/feedorg/webhooks", headers=bearer(hal)).json() == []
        r = http.post("/api/v1/orgs/feedorg/webhooks", json=body, headers=bearer(hal))
        assert r.status_code == 201, r.text
        secret = r.json()["secret"]
        assert r.json()["webhook"]["owner"] == "org:feedorg"
        replicas.publish(replicas.b, ivy, "feed-not-org", "1.0.0")
        replicas.publish(replicas.b, hal, "feed-org-comp", "2.0.0")
        rx.wait_for(lambda got: len(got) >= 1)
        time.sleep(0.5)  # anything else would have arrived by now
        assert len(rx.got) == 1
        change = json.loads(rx.got[0].body)["change"]
        assert (change["component"], change["version"]) == ("feed-org-comp", "2.0.0")
        assert verify_signature(secret, rx.got[0].body, rx.got[0].headers[SIGNATURE_HEADER])


def test_ids_past_the_64_bit_columns_are_a_4xx_problem(replicas: Replicas) -> None:
    """A webhook or delivery id no row can have is a 404 (a query bound at 400), never a 500
    from the database refusing the number."""
    jon = token_for(replicas.a, "jon")
    big = 2**63
    with httpx.Client(base_url=replicas.a.url, timeout=30, headers=bearer(jon)) as http:
        created = http.post(
            "/api/v1/me/webhooks",
            json={"url": "https://example.org/h", "events": ["release.create"]},
        )
        assert created.status_code == 201, created.text
        hook = created.json()["webhook"]["id"]
        for method, path, status in [
            ("GET", f"/api/v1/me/webhooks/{big}", 404),
            ("PATCH", f"/api/v1/me/webhooks/{big}", 404),
            ("DELETE", f"/api/v1/me/webhooks/{big}", 404),
            ("GET", f"/api/v1/me/webhooks/{big}/deliveries", 404),
            ("POST", f"/api/v1/me/webhooks/{hook}/deliveries/{big}/redeliver", 404),
            ("GET", f"/api/v1/me/webhooks/{hook}/deliveries?before={big}", 400),
        ]:
            body = {"active": True} if method == "PATCH" else None
            r = http.request(method, path, json=body)
            assert r.status_code == status, (method, path, r.text)
            problem(r)
        assert http.delete(f"/api/v1/me/webhooks/{hook}").status_code == 204
