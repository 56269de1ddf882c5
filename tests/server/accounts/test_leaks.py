"""Leaked-token reports: a valid token is revoked and its owner told; the answer never says
whether a token was valid."""

from __future__ import annotations

import json
from typing import Any, cast

import httpx
import pytest
from sqlalchemy import select

from pysetl_hub_schemas import LeakReceipt
from pysetl_hub_server.accounts.leaks import RECEIPT, report_leaks
from pysetl_hub_server.accounts.services import create_token, create_user
from pysetl_hub_server.db.models import ApiToken, AuditEvent, User
from pysetl_hub_server.errors import BadRequest, TooManyRequests
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


# -- in-process: the service, without a server ------------------------------------------------


async def tokens_of(hub: Hub, *owners: str) -> list[str]:
    async with hub.sessions() as s:
        made = []
        for owner in owners:
            if await s.scalar(select(User).where(User.username == owner)) is None:
                await create_user(s, owner, f"{owner}@example.org", "password123")
            made.append(await create_token(s, owner))
        await s.commit()
    return made


def body(*entries: dict[str, Any]) -> bytes:
    return json.dumps(list(entries)).encode()


async def revoked(hub: Hub, token: str) -> bool:
    async with hub.sessions() as s:
        row = await s.scalar(select(ApiToken).where(ApiToken.token_id == token.split("_")[1]))
        return row is not None and row.revoked_at is not None


async def test_a_wrong_secret_under_a_real_token_id_revokes_nothing(offline_hub: Hub) -> None:
    """The public id is shown in events and listings: knowing it must not let anyone revoke
    the token; only the whole secret does."""
    (token,) = await tokens_of(offline_hub, "alice")
    wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
    receipt = await report_leaks(offline_hub, body(leak(wrong)), ip="192.0.2.1", user_agent=None)
    assert receipt == LeakReceipt(received=1, detail=RECEIPT)
    assert not await revoked(offline_hub, token)
    await report_leaks(offline_hub, body(leak(token)), ip="192.0.2.1", user_agent="scanner/2")
    assert await revoked(offline_hub, token)
    async with offline_hub.sessions() as s:
        (event,) = await s.scalars(select(AuditEvent).where(AuditEvent.action == "token.leaked"))
    assert (event.actor, event.ip, event.user_agent) == ("leak-report", "192.0.2.1", "scanner/2")


async def test_the_receipt_thanks_and_promises_nothing_more(offline_hub: Hub) -> None:
    receipt = await report_leaks(offline_hub, body(leak("x"), leak("y")), ip=None, user_agent=None)
    assert receipt == LeakReceipt(
        received=2,
        detail="thank you: every valid PySetl Hub token in the report is revoked, and its owner "
        "is told where it was found",
    )


async def test_a_report_of_100_tokens_is_taken_and_101_refused_with_the_fix(
    offline_hub: Hub,
) -> None:
    assert (await report_leaks(offline_hub, body(*[leak("x")] * 100), ip=None, user_agent=None)
            ).received == 100  # fmt: skip
    with pytest.raises(BadRequest) as refused:
        await report_leaks(offline_hub, body(*[leak("x")] * 101), ip=None, user_agent=None)
    assert refused.value.code == "leak.too_many"
    assert refused.value.detail == "a report holds at most 100 tokens, this one 101: split it"


async def test_a_bad_body_is_refused_with_the_format_it_must_have(offline_hub: Hub) -> None:
    with pytest.raises(BadRequest) as refused:
        await report_leaks(offline_hub, b'[{"url": "x"}]', ip=None, user_agent=None)
    assert refused.value.code == "leak.body"
    assert refused.value.detail.startswith(
        "a leaked-token report is a JSON list of objects with a 'token' string and optional "
        "'type', 'url' and 'source' (GitHub secret scanning's format): Object missing required "
        "field `token`"
    )


async def test_reports_are_counted_per_address(offline_hub: Hub) -> None:
    cast(Limiter, offline_hub.limits).override("leak_report", "1/hour")
    for ip in ("192.0.2.1", "192.0.2.2", None):
        await report_leaks(offline_hub, body(leak("x")), ip=ip, user_agent=None)
    for ip in ("192.0.2.1", "192.0.2.2", None):
        with pytest.raises(TooManyRequests):
            await report_leaks(offline_hub, body(leak("x")), ip=ip, user_agent=None)
