"""Behind a TLS-terminating proxy the hub sees plain http, but its public URL is https: the
session cookie must still be `Secure`, or a browser sends it over any plain-http request to
the host (a typed `http://` link, a downgrade on a hostile network) and the session is read
off the wire."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.conftest import start_hub
from tests.server.accounts.test_sessions import PASSWORD


def attributes(cookie: str) -> set[str]:
    return {part.strip().lower() for part in cookie.split(";")[1:]}


def test_the_cookie_is_secure_when_the_public_url_is_https(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}"
    live = start_hub(tmp_path, url, base_url="https://hub.example.org")
    try:
        live.user_with_token("alice")
        with httpx.Client(base_url=live.url, timeout=30) as http:  # the proxy's plain hop
            r = http.post("/api/v1/session", json={"username": "alice", "password": PASSWORD})
            assert r.status_code == 200, r.text
            assert {"secure", "httponly", "samesite=lax"} <= attributes(r.headers["set-cookie"])
            # (a client keeps a Secure cookie off plain http: the CLI's Bearer signs out)
            bearer = {"Authorization": f"Bearer {r.json()['session']}"}
            out = http.delete("/api/v1/session", headers=bearer)
            assert out.status_code == 204
            assert "secure" in attributes(out.headers["set-cookie"])
    finally:
        live.stop()
