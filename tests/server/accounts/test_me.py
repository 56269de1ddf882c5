"""`GET /api/v1/me`: the user and token behind a request, or 401 problem+json."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import httpx
import msgspec
import pytest

from pysetl_hub_schemas import Me, Problem
from tests.support.live import LiveServer


def me(http: httpx.Client, authorization: str | None) -> httpx.Response:
    headers = {"Authorization": authorization} if authorization else {}
    return http.get("/api/v1/me", headers=headers)


def test_me_names_the_user_and_the_token(http: httpx.Client, live: LiveServer) -> None:
    token = live.user_with_token("alice")
    r = me(http, f"Bearer {token}")
    assert r.status_code == 200, r.text
    body = msgspec.json.decode(r.content, type=Me)
    assert body.username == "alice"
    assert body.token.id == token.split("_")[1]  # the public id, never the secret
    assert token.split("_", 2)[2] not in r.text
    # user-wide, every action, and the default expiry of 90 days (never is only by choice)
    assert body.token.component is None and body.token.components is None
    assert body.token.actions == ["manage", "upload", "yank"]
    assert body.token.expires is not None
    in_90_days = datetime.now(UTC) + timedelta(days=90)
    assert abs((body.token.expires - in_90_days).total_seconds()) < 60
    # twine's Basic __token__:<token> is accepted as well
    basic = base64.b64encode(f"__token__:{token}".encode()).decode()
    assert me(http, f"Basic {basic}").status_code == 200


def test_me_shows_a_scoped_expiring_token(
    http: httpx.Client, live: LiveServer, published_catalog: str
) -> None:
    token = live.user_with_token("alice", component="CSV_Dedupe", expires_days=7)
    body = msgspec.json.decode(me(http, f"Bearer {token}").content, type=Me)
    assert body.token.component == "csv-dedupe"
    assert body.token.expires is not None
    soon = datetime.now(UTC) + timedelta(days=7)
    assert abs((body.token.expires - soon).total_seconds()) < 60


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "auth.missing"),
        ("Bearer not-a-token", "auth.token_format"),
        ("Bearer pshub_0123456789abcdef_" + "x" * 43, "auth.invalid"),
    ],
)
def test_me_refuses_with_problem_json(
    http: httpx.Client, live: LiveServer, authorization: str | None, code: str
) -> None:
    r = me(http, authorization)
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert msgspec.json.decode(r.content, type=Problem).code == code
