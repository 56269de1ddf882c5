"""Leaked-token reports: a valid token is revoked and its owner told; the answer never says
whether a token was valid."""

from __future__ import annotations

from typing import Any, cast

import httpx
from sqlalchemy import select

from pysetl_hub_server.db.models import AuditEvent, User
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.security.ratelimit import Limiter
from tests.support.live import LiveServer
from tests.support.upload import problem


def report(http: httpx.Client, *entries: dict[str, Any]) -> httpx.Response:
    return http.post("/api/v1/tokens/leaked", json=list(entries))


def leak(token: str) -> dict[str, Any]:
    """An entry as GitHub secret scanning sends it."""
    return {
        "token": token,
        "type": "pysetl_hub_token",
        "url": "https://github.com/o/r/blob/main/ci.yml",
        "source": "content",
    }


def test_a_valid_token_is_revoked_and_every_answer_is_the_same(
    live: LiveServer, http: httpx.Client
) -> None:
    token = live.user_with_token("alice")
    other = live.user_with_token("bob")
    answers = [
        report(http, leak(token)),  # valid: revoked now
        report(http, leak(token)),  # already revoked
        report(http, leak("pshub_0123456789abcdef_" + "x" * 43)),  # unknown id
        report(http, leak(token[:-1] + ("A" if token[-1] != "A" else "B"))),  # wrong secret
        report(http, leak("hello, not a token")),  # malformed
        report(http, {"token": other}),  # no url or source
    ]
    first = answers[0]
    assert first.status_code == 202, first.text
    for r in answers:
        assert (r.status_code, r.content, r.headers["content-type"]) == (
            first.status_code,
            first.content,
            first.headers["content-type"],
        )
    assert first.json()["received"] == 1
    for revoked in (token, other):
        r = http.get("/api/v1/me", headers={"Authorization": f"Bearer {revoked}"})
        assert r.status_code == 401 and problem(r)["code"] == "auth.revoked"

    async def events(hub: Hub) -> list[tuple[AuditEvent, str | None]]:
        async with hub.sessions() as s:
            rows = await s.scalars(select(AuditEvent).where(AuditEvent.action == "token.leaked"))
            return [(e, await s.scalar(select(User.username).where(User.id == e.user_id)))
                    for e in rows]  # fmt: skip

    (alice_event, owner), (bob_event, _) = live.run(events)
    # on the owner's own record, with where it was found and never the secret
    assert owner == "alice" and alice_event.target == "user:alice"
    assert alice_event.detail == {
        "token_id": token.split("_")[1],
        "name": "",
        "url": "https://github.com/o/r/blob/main/ci.yml",
        "source": "content",
        "type": "pysetl_hub_token",
    }
    assert token.split("_", 2)[2] not in str(alice_event.detail)
    assert (alice_event.actor, alice_event.ip) == ("leak-report", "127.0.0.1")
    assert bob_event.detail["url"] is None and bob_event.target == "user:bob"


def test_a_report_may_hold_several_tokens(live: LiveServer, http: httpx.Client) -> None:
    a, b = live.user_with_token("alice"), live.user_with_token("alice")
    r = report(http, leak(a), leak("junk"), leak(b))
    assert r.status_code == 202 and r.json()["received"] == 3
    for token in (a, b):
        assert (
            http.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
        )


def test_a_body_that_is_not_a_list_of_reports_is_refused(http: httpx.Client) -> None:
    for body in (b"not json", b'{"token": "x"}', b'[{"url": "x"}]', b"[1]"):
        r = http.post(
            "/api/v1/tokens/leaked", content=body, headers={"Content-Type": "application/json"}
        )
        assert r.status_code == 400 and problem(r)["code"] == "leak.body", body
    r = report(http, *[leak("x")] * 101)
    assert r.status_code == 400 and problem(r)["code"] == "leak.too_many"


def test_reports_are_rate_limited_per_address(live: LiveServer, http: httpx.Client) -> None:
    cast(Limiter, live.hub.limits).override("leak_report", "2/hour")
    assert report(http, leak("x")).status_code == 202
    assert report(http, leak("x")).status_code == 202
    r = report(http, leak("x"))
    assert r.status_code == 429 and problem(r)["code"] == "rate.leak_report"
    assert int(r.headers["retry-after"]) > 0
