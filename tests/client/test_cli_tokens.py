"""`pysetl-hub login --password` and `pysetl-hub tokens ...`, the real CLI against a live hub."""

from __future__ import annotations

import json
import time
import tomllib

import httpx
import pyotp
from click.testing import Result
from sqlalchemy import select

from pysetl_hub.config import Config
from pysetl_hub_server.db.models import WebSession
from pysetl_hub_server.hub import Hub
from tests.support.live import LiveServer


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.output, result.stderr, result.exception)
    return result


def stored_token(config: Config) -> str:
    tokens = tomllib.loads(config.path.read_text())["tokens"]
    return str(tokens[config.url])


def sessions(live: LiveServer) -> list[WebSession]:
    async def go(hub: Hub) -> list[WebSession]:
        async with hub.sessions() as s:
            return list(await s.scalars(select(WebSession)))

    return live.run(go)


def test_login_with_a_password_saves_a_new_token_and_signs_out(  # type: ignore[no-untyped-def]
    run, config: Config, live: LiveServer
) -> None:
    r = ok(run("login", "--password", input="alice\npassword123\n"))
    assert "logged in to" in r.stderr and "as alice" in r.stderr
    token = stored_token(config)
    assert token.startswith("pshub_") and token != config.token
    listing = json.loads(ok(run("tokens", "list", "--json", token=token)).stdout)["tokens"]
    [made] = [t for t in listing if t["id"] == token.split("_")[1]]
    assert made["name"].startswith("pysetl-hub login on ")
    assert made["components"] is None and made["expires"] is not None  # the 90-day default
    # the session it was made with is over
    [session] = sessions(live)
    assert session.revoked_at is not None
    assert "alice" in ok(run("whoami")).stderr  # the saved token is the one used now


def test_login_with_a_password_asks_for_the_code_when_two_factor_is_on(  # type: ignore[no-untyped-def]
    run, config: Config, live: LiveServer
) -> None:
    with httpx.Client(base_url=live.url) as http:
        r = http.post("/api/v1/session", json={"username": "alice", "password": "password123"})
        auth = {"Authorization": f"Bearer {r.json()['session']}"}
        secret = http.post("/api/v1/me/totp", headers=auth).json()["secret"]
        code = pyotp.TOTP(secret).now()
        r = http.post("/api/v1/me/totp/confirm", json={"code": code}, headers=auth)
        assert r.status_code == 200, r.text
    following = pyotp.TOTP(secret).at(time.time() + 30)
    r = ok(run("login", "--password", "--username", "alice", input=f"password123\n{following}\n"))
    assert "two-factor code" in r.output
    assert stored_token(config).startswith("pshub_")
    # a wrong code: refused, with the hint, and nothing else saved
    before = config.path.read_text()
    r = run("login", "--password", "--username", "alice", input="password123\n000001\n")
    assert r.exit_code == 8 and "auth.otp_invalid" in r.stderr and "hint:" in r.stderr
    assert config.path.read_text() == before


def test_a_wrong_password_saves_nothing(run, config: Config) -> None:  # type: ignore[no-untyped-def]
    r = run("login", "--password", input="alice\nnot-the-password\n")
    assert r.exit_code == 8 and "wrong username or password" in r.stderr
    assert not config.path.exists() or "tokens" not in tomllib.loads(config.path.read_text())


def test_tokens_create_list_revoke(run, config: Config) -> None:  # type: ignore[no-untyped-def]
    alice = config.token
    assert alice is not None
    r = ok(run("tokens", "create", "--name", "ci", "--component", "CSV_Dedupe",
               "--action", "upload", "--expires-days", "5", token=alice))  # fmt: skip
    ci = r.stdout.strip()
    assert ci.startswith("pshub_") and r.stdout == ci + "\n"  # the secret alone on stdout
    assert "only time the token is shown" in r.stderr
    r = ok(run("tokens", "list", token=alice))
    assert "API tokens" in r.stderr and "ci" in r.stderr and "csv-dedupe" in r.stderr
    assert ci.split("_", 2)[2] not in r.output
    # the narrower rule, from the CLI: this token cannot create a wider one
    r = run("tokens", "create", "--name", "wide", "--never-expires", token=ci)
    assert r.exit_code == 8 and "token.wider" in r.stderr
    r = ok(run("tokens", "create", "--name", "narrower", "--component", "csv-dedupe",
               "--action", "upload", "--expires-days", "1", "--json", token=ci))  # fmt: skip
    made = json.loads(r.stdout)
    assert made["info"]["components"] == ["csv-dedupe"] and made["token"].startswith("pshub_")
    ci_id = ci.split("_")[1]
    assert f"revoked {ci_id}" in ok(run("tokens", "revoke", ci_id, token=alice)).stderr
    r = run("whoami", token=ci)
    assert r.exit_code == 8 and "revoked" in r.stderr
    listing = json.loads(ok(run("tokens", "list", "--json", token=alice)).stdout)["tokens"]
    assert next(t for t in listing if t["id"] == ci_id)["revoked"] is not None
    r = run("tokens", "create", "--expires-days", "2", "--never-expires", token=alice)
    assert r.exit_code == 2  # a usage error


def test_whoami_shows_scope_and_actions(run, config: Config) -> None:  # type: ignore[no-untyped-def]
    alice = config.token
    assert alice is not None
    ci = ok(run("tokens", "create", "--name", "ci", "--component", "csv-dedupe",
                "--action", "upload", "--action", "yank", token=alice)).stdout.strip()  # fmt: skip
    r = ok(run("whoami", token=ci))
    assert "scope: only csv-dedupe" in r.stderr and "may: upload, yank" in r.stderr
    assert "(ci)" in r.stderr
