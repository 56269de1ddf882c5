"""A token minted for a trusted publisher acts for a CI workflow, not for the person who
registered the publisher: it may not read that person's account (their tokens, with where each
was last used, and their security events, with the addresses they signed in from), which any
step of the workflow could otherwise send anywhere."""

from __future__ import annotations

import httpx

from tests.support.governance import bearer, token_for
from tests.support.live import LiveServer
from tests.support.upload import problem


def test_a_publisher_token_cannot_read_its_registrant_s_account(
    live: LiveServer, published_catalog: str, http: httpx.Client
) -> None:
    minted = token_for(live, "alice", components=["csv-dedupe"], actions=["upload"], origin="oidc")
    for path in ("/api/v1/tokens", "/api/v1/me/events"):
        refused = http.get(path, headers=bearer(minted))
        assert refused.status_code == 403, (path, refused.text)
        assert problem(refused)["code"] == "auth.scope"
        assert "trusted publisher" in problem(refused)["detail"]
        assert http.get(path, headers=bearer(published_catalog)).status_code == 200
    # What it is, it may still ask.
    me = http.get("/api/v1/me", headers=bearer(minted))
    assert me.status_code == 200 and me.json()["via"] == "oidc"


def test_a_component_scoped_token_cannot_read_its_user_s_account(
    live: LiveServer, published_catalog: str, http: httpx.Client
) -> None:
    """A token scoped to components is a CI secret too: made to publish, not to list where its
    user's other tokens were used or where they sign in from."""
    scoped = token_for(live, "alice", components=["csv-dedupe"])
    for path in ("/api/v1/tokens", "/api/v1/me/events"):
        refused = http.get(path, headers=bearer(scoped))
        assert refused.status_code == 403, (path, refused.text)
        assert problem(refused)["code"] == "auth.scope"
        assert "user-wide token" in problem(refused)["detail"]
    # It may still make a narrower token of itself, and say what it is.
    body = {"name": "narrower", "components": ["csv-dedupe"], "actions": ["upload"]}
    assert http.post("/api/v1/tokens", json=body, headers=bearer(scoped)).status_code == 201
    assert http.get("/api/v1/me", headers=bearer(scoped)).status_code == 200
