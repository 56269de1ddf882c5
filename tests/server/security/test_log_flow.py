"""No secret reaches a log line: a real `pysetl-hub-server serve` at DEBUG, access log on,
driven through a whole flow (and its failures); then every line it wrote, and every line the
operator CLI wrote to stderr, is searched for each secret the flow used.

The flow: users and tokens made by the operator CLI; sign-in with a password, TOTP set-up,
recovery codes, sign-in with a code, a token made through the API, a leaked-token report;
publish and yank; a CI job's OIDC token (from a local issuer) exchanged for an upload token that
publishes; and the failures (wrong passwords, wrong tokens, a replayed OIDC token, bad uploads,
secrets pasted into URLs). To extend it, append a step to STEPS: a function that drives the hub
through `flow` and hands every secret it used to `flow.secret(...)`.
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pyotp
import pytest

from tests.support.oidc_issuer import LocalIssuer
from tests.support.served import BIN, Served, serve
from tests.support.upload import upload

PASSWORD = "correct-horse-battery-staple"
EMAIL = "alice.liddell@example.org"
JWT = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJyZXBvOmFjbWUvY3N2In0.c2lnbmF0dXJlLWhlcmU"
TOTP = "918273"


@dataclass
class Flow:
    served: Served
    http: httpx.Client
    dists: dict[str, Path]
    issuer: LocalIssuer
    secrets: set[str] = field(default_factory=set)
    cli_output: list[str] = field(default_factory=list)
    token: str = ""

    def secret(self, *values: str) -> None:
        """Values that must appear in no log line (tokens also in their Basic encoding)."""
        for value in values:
            self.secrets.add(value)
            if value.startswith("pshub_"):
                # The secret part alone: after `pshub_<16 hex>_` (it may hold "_" itself).
                self.secrets.add(value.split("_", 2)[2])
                basic = base64.b64encode(f"__token__:{value}".encode()).decode()
                self.secrets.add(basic)

    def cli(self, *args: str, stdin: str | None = None) -> str:
        """The operator CLI against the served hub's data; stdout is its answer, stderr a
        log that is searched too."""
        done = subprocess.run(
            [str(BIN), "--data-dir", str(self.served.data_dir), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        self.cli_output.append(done.stderr)
        return done.stdout


def create_user(flow: Flow) -> None:
    flow.secret(PASSWORD, EMAIL)
    flow.cli("users", "create", "alice", "--email", EMAIL, stdin=PASSWORD + "\n")


def create_token(flow: Flow) -> None:
    flow.token = flow.cli("tokens", "create", "alice").strip()
    flow.secret(flow.token)


def sign_in_and_second_factor(flow: Flow) -> None:
    """A password sign-in, TOTP set up and confirmed (recovery codes shown), a sign-in with a
    code; then, with that session, a token made through the API and reported as leaked."""
    r = flow.http.post("/api/v1/session", json={"username": "alice", "password": PASSWORD})
    assert r.status_code == 200, r.text
    first = r.json()
    flow.secret(first["session"], first["csrf_token"])
    signed_in = {"Authorization": f"Bearer {first['session']}"}
    r = flow.http.post("/api/v1/me/totp", headers=signed_in)
    assert r.status_code == 200, r.text
    totp = pyotp.TOTP(r.json()["secret"])
    flow.secret(r.json()["secret"], r.json()["uri"])
    code = totp.now()
    flow.secret(code)
    r = flow.http.post("/api/v1/me/totp/confirm", json={"code": code}, headers=signed_in)
    assert r.status_code == 200, r.text
    flow.secret(*r.json()["codes"])
    assert flow.http.delete("/api/v1/session", headers=signed_in).status_code in (200, 204)
    wrong = "not-the-password-at-all"
    flow.secret(wrong)
    body = {"username": "alice", "password": wrong, "otp": "000000"}
    assert flow.http.post("/api/v1/session", json=body).status_code == 401
    next_code = totp.at(time.time() + 30)  # the next step: the current one is spent
    flow.secret(next_code)
    body = {"username": "alice", "password": PASSWORD, "otp": next_code}
    r = flow.http.post("/api/v1/session", json=body)
    assert r.status_code == 200, r.text
    flow.secret(r.json()["session"], r.json()["csrf_token"])
    signed_in = {"Authorization": f"Bearer {r.json()['session']}"}
    r = flow.http.post("/api/v1/tokens", json={"name": "laptop"}, headers=signed_in)
    assert r.status_code == 201, r.text
    made = r.json()["token"]
    flow.secret(made)
    leak = [{"token": made, "type": "pysetl_hub_token", "url": "https://example.org/paste/1"}]
    assert flow.http.post("/api/v1/tokens/leaked", json=leak).status_code == 202
    r = flow.http.get("/api/v1/me", headers={"Authorization": f"Bearer {made}"})
    assert r.status_code == 401  # revoked by the report


def publish(flow: Flow) -> None:
    assert upload(flow.http, flow.token, flow.dists["csv-dedupe:wheel"]).status_code == 200
    bearer = {"Authorization": f"Bearer {flow.token}"}
    assert flow.http.get("/api/v1/me", headers=bearer).status_code == 200
    r = flow.http.post("/api/v1/components/csv-dedupe/1.0.0/yank", json={}, headers=bearer)
    assert r.status_code == 200


def wrong_tokens(flow: Flow) -> None:
    token_id = flow.token.split("_")[1]
    wrong = f"pshub_{token_id}_" + "W" * 43
    flow.secret(wrong)
    assert upload(flow.http, wrong, flow.dists["csv-dedupe:sdist"]).status_code == 401
    assert (
        flow.http.get("/api/v1/me", headers={"Authorization": f"Bearer {wrong}"}).status_code == 401
    )
    assert (
        flow.http.get("/api/v1/me", headers={"Authorization": f"Token {wrong}"}).status_code == 401
    )
    # A token pasted into a URL lands in the access log's request line.
    flow.http.get(f"/simple/?token={flow.token}")
    flow.http.get(f"/api/v1/components/{flow.token}")


def oidc_shaped(flow: Flow) -> None:
    flow.secret(JWT)
    assert (
        flow.http.get("/api/v1/me", headers={"Authorization": f"Bearer {JWT}"}).status_code == 401
    )
    flow.http.get(f"/simple/?id_token={JWT}")


def passwords_and_codes(flow: Flow) -> None:
    flow.secret(TOTP)
    flow.http.post(
        "/api/v1/session", json={"username": "alice", "password": PASSWORD, "totp": TOTP}
    )
    flow.http.get(f"/api/v1/components/csv-dedupe?password={PASSWORD}&totp_code={TOTP}")
    flow.http.get(f"/api/v1/components/{EMAIL}")


def trusted_publishing(flow: Flow) -> None:
    """csv-dedupe trusts acme/csv-dedupe's release.yml; that job's OIDC token is exchanged for
    an upload token that publishes the sdist; the same OIDC token again is refused."""
    owner = {"Authorization": f"Bearer {flow.token}"}
    publisher = {"kind": "github", "repository": "acme/csv-dedupe", "workflow": "release.yml"}
    r = flow.http.post("/api/v1/components/csv-dedupe/publishers", json=publisher, headers=owner)
    assert r.status_code in (200, 201), r.text
    oidc_token = flow.issuer.sign()
    flow.secret(oidc_token)
    r = flow.http.post("/api/v1/oidc/mint-token", json={"token": oidc_token})
    assert r.status_code in (200, 201), r.text
    minted = r.json()["token"]
    flow.secret(minted)
    assert upload(flow.http, minted, flow.dists["csv-dedupe:sdist"]).status_code == 200
    r = flow.http.post("/api/v1/oidc/mint-token", json={"token": oidc_token})
    assert r.status_code == 401 and r.json()["code"] == "oidc.replay"
    assert oidc_token not in r.text and minted not in r.text


def bad_uploads(flow: Flow) -> None:
    wheel = flow.dists["csv-dedupe:wheel"]
    r = upload(flow.http, flow.token, wheel, content=b"not a zip", filename=f"{EMAIL}-1.0.tar.gz")
    assert 400 <= r.status_code < 500
    assert EMAIL not in r.text and flow.token not in r.text
    r = upload(flow.http, flow.token, wheel, name=EMAIL, author_email=EMAIL)
    assert 400 <= r.status_code < 500
    assert EMAIL not in r.text


STEPS: list[Callable[[Flow], None]] = [
    create_user,
    create_token,
    sign_in_and_second_factor,
    publish,
    trusted_publishing,
    wrong_tokens,
    oidc_shaped,
    passwords_and_codes,
    bad_uploads,
]


@pytest.mark.timeout(600)
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_secret_in_any_log_line(
    tmp_path: Path, example_dists: dict[str, Path], log_format: str
) -> None:
    log = tmp_path / "server.log"
    issuer = LocalIssuer()
    env = {
        "PYSETL_HUB_LOG_FORMAT": log_format,
        "PYSETL_HUB_LOG_LEVEL": "DEBUG",
        "PYSETL_HUB_OIDC_ISSUERS": f"github={issuer.url}",
        "PYSETL_HUB_OIDC_ALLOW_HTTP": "1",
    }
    served = serve(tmp_path / "data", log, env=env, access_log=True)
    try:
        with httpx.Client(base_url=served.url, timeout=60) as http:
            flow = Flow(served, http, example_dists, issuer)
            for step in STEPS:
                step(flow)
    finally:
        served.stop()
        issuer.stop()
    lines = log.read_text(errors="replace").splitlines()
    lines += [line for out in flow.cli_output for line in out.splitlines()]
    # The capture is real: DEBUG records, the access log and SQL all made it into the file.
    text = "\n".join(lines)
    assert "/api/v1/me" in text and "a***@example.org" in text
    if log_format == "json":
        served_lines = log.read_text().splitlines()
        records = [json.loads(line) for line in served_lines if line.strip()]  # all JSON
        assert any(r["level"] == "DEBUG" for r in records)
        access = [r for r in records if r["logger"] == "pysetl_hub_server.access"]
        assert access and all(r["request_id"] and r["route"] for r in access)
    else:
        assert " DEBUG " in text
    leaks = [(s, line) for line in lines for s in flow.secrets if s in line]
    assert not leaks, "\n".join(f"{s!r} in: {line}" for s, line in leaks[:20])
