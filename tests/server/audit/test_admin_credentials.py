"""An admin's power goes with a user-wide credential that may manage, never with a narrow one:
a CI token scoped to one component, an upload-only token, or a token minted for a trusted
publisher that an admin registered, leaked, must not read everyone's events (IP addresses
included) or quarantine components."""

from __future__ import annotations

import httpx

from tests.support.governance import bearer, token_for
from tests.support.live import LiveServer
from tests.support.upload import problem


def test_admin_actions_refuse_narrow_credentials_of_an_admin(
    live: LiveServer, published_catalog: str, http: httpx.Client
) -> None:
    wide = token_for(live, "alice", admin=True)
    minted = token_for(live, "alice", components=["csv-dedupe"], actions=["upload"], origin="oidc")
    narrow = {
        "auth.scope": [token_for(live, "alice", components=["csv-dedupe"])],
        "auth.token_action": [token_for(live, "alice", actions=["upload"])],
        "auth.admin": [minted],  # the publisher is no admin, whoever registered it
    }
    assert http.get("/api/v1/admin/events", headers=bearer(wide)).status_code == 200
    quarantine = "/api/v1/admin/components/daily-sales-pipeline/quarantine"
    for code, tokens in narrow.items():
        for token in tokens:
            events = http.get("/api/v1/admin/events", headers=bearer(token))
            assert events.status_code == 403, events.text
            assert problem(events)["code"] == code
            put = http.post(quarantine, headers=bearer(token), json={"reason": "x"})
            assert put.status_code == 403 and problem(put)["code"] == code
