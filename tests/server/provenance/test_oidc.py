"""Trusted publishing: which CI tokens mint an upload token, and which are refused, and why.

One hub (SQLite) trusts two local issuers (GitHub-like and GitLab-like, tests/support/
oidc_issuer.py) and serves the whole matrix; every case registers its own publisher on its own
new name, with a repository no other case uses, so a case wrongly accepted spoils only itself.
Each refusal is a 4xx problem with its own code, and leaves no token behind. The full publish
path (mint, upload, scope) runs on SQLite and PostgreSQL in test_oidc_publish.py.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import func, select

from pysetl_hub_server.db.models import ApiToken, AuditEvent, OidcJti
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.settings import Oidc, OidcIssuer
from tests.conftest import start_hub
from tests.support.live import LiveServer
from tests.support.oidc_issuer import DROP, LocalIssuer, forge, new_key
from tests.support.upload import problem

MINT = "/api/v1/oidc/mint-token"


@pytest.fixture(scope="module")
def issuer() -> Iterator[LocalIssuer]:
    server = LocalIssuer("github")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def gitlab() -> Iterator[LocalIssuer]:
    server = LocalIssuer("gitlab")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def hub(
    tmp_path_factory: pytest.TempPathFactory, issuer: LocalIssuer, gitlab: LocalIssuer
) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("oidc-hub")
    oidc = Oidc(
        issuers=(OidcIssuer(issuer.url, "github"), OidcIssuer(gitlab.url, "gitlab")),
        allow_http=True,
        refetch_interval=0,  # a rotated key is looked up at once (keys tests cover the limit)
    )
    server = start_hub(tmp, f"sqlite+aiosqlite:///{tmp / 'hub.sqlite3'}", oidc=oidc)
    server.hub.limits.override("mint", "10000/minute")  # type: ignore[attr-defined]
    # Every case registers a publisher on a new name: more than the default 20 an hour.
    server.hub.limits.override("create_name", "10000/minute")  # type: ignore[attr-defined]
    yield server
    server.stop()


@pytest.fixture(scope="module")
def alice(hub: LiveServer) -> str:
    return hub.user_with_token("alice")


@pytest.fixture
def api(hub: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=hub.url, timeout=30) as client:
        yield client


def register(api: httpx.Client, token: str, name: str, **publisher: Any) -> None:
    body = {"kind": "github", "workflow": "release.yml", **publisher}
    r = api.post(
        f"/api/v1/components/{name}/publishers",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 201, r.text


def fresh() -> tuple[str, str]:
    """A component name and a repository no other case uses."""
    name = f"tp-{uuid.uuid4().hex[:10]}"
    return name, f"acme/{name}"


def minted_tokens(hub: LiveServer) -> int:
    async def go(h: Hub) -> int:
        async with h.sessions() as s:
            return await s.scalar(select(func.count()).where(ApiToken.origin == "oidc")) or 0

    return hub.run(go)


def test_the_audience_is_published(api: httpx.Client) -> None:
    assert api.get("/api/v1/oidc/audience").json() == {"audience": "pysetl-hub"}


def test_a_matching_token_mints_a_15_minute_upload_token(
    hub: LiveServer, alice: str, api: httpx.Client, issuer: LocalIssuer
) -> None:
    name, repo = fresh()
    register(api, alice, name, repository=repo, environment="release")
    jwt_text = issuer.sign(issuer.claims(repo, environment="release"))
    before = datetime.now(UTC)
    r = api.post(MINT, json={"token": jwt_text})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["components"] == [name] and body["token"].startswith("pshub_")
    expires = datetime.fromisoformat(body["expires"])
    assert before + timedelta(minutes=15) <= expires <= datetime.now(UTC) + timedelta(minutes=15)
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"}).json()
    assert me["username"] == "alice"
    assert me["token"]["actions"] == ["upload"] and me["token"]["components"] == [name]

    async def events(h: Hub) -> list[AuditEvent]:
        async with h.sessions() as s:
            rows = await s.scalars(select(AuditEvent).where(AuditEvent.action == "oidc.mint"))
            return list(rows)

    (event,) = [e for e in hub.run(events) if e.target == f"component:{name}"]
    assert event.actor == f"publisher:github:{repo}/release.yml"
    assert event.detail["publisher"] == f"github:{repo}/release.yml"
    assert event.detail["claims"]["repository"] == repo
    assert event.detail["claims"]["environment"] == "release"
    assert jwt_text.split(".")[2] not in json.dumps(event.detail)  # never the token itself


def test_one_token_mints_for_every_component_its_publisher_is_registered_on(
    alice: str, api: httpx.Client, issuer: LocalIssuer
) -> None:
    first, repo = fresh()
    second = f"{first}-extra"
    register(api, alice, first, repository=repo)
    register(api, alice, second, repository=repo.upper())  # repositories: any case
    r = api.post(MINT, json={"token": issuer.sign(issuer.claims(repo))})
    assert sorted(r.json()["components"]) == sorted([first, second])


def refused(
    api: httpx.Client, hub: LiveServer, jwt_text: str, status: int, code: str
) -> dict[str, Any]:
    before = minted_tokens(hub)
    r = api.post(MINT, json={"token": jwt_text})
    assert r.status_code == status, r.text
    body = problem(r)
    assert body["code"] == code, body
    assert minted_tokens(hub) == before
    return body


@pytest.mark.parametrize(
    ("case", "claims", "code"),
    [
        ("wrong repository", {"repository": "other/repo"}, "oidc.no_publisher"),
        ("wrong workflow", {"workflow": "nightly.yml"}, "oidc.no_publisher"),
        ("wrong environment", {"environment": "staging"}, "oidc.no_publisher"),
        ("no environment", {"environment": None}, "oidc.no_publisher"),
    ],
)
def test_claims_that_match_no_publisher_are_refused(
    hub: LiveServer,
    alice: str,
    api: httpx.Client,
    issuer: LocalIssuer,
    case: str,
    claims: dict[str, Any],
    code: str,
) -> None:
    name, repo = fresh()
    register(api, alice, name, repository=repo, environment="release")
    wanted = {"repository": repo, "environment": "release", **claims}
    body = refused(api, hub, issuer.sign(issuer.claims(**wanted)), 403, code)
    assert "pysetl-hub publishers add" in body["detail"], case
    # the control: the same publisher accepts the honest claims
    honest = issuer.claims(repo, environment="RELEASE")  # GitHub environments: any case
    assert api.post(MINT, json={"token": issuer.sign(honest)}).status_code == 200


def test_a_reusable_workflow_of_another_repository_is_not_the_publisher(
    hub: LiveServer, alice: str, api: httpx.Client, issuer: LocalIssuer
) -> None:
    name, repo = fresh()
    register(api, alice, name, repository=repo)
    elsewhere = "evil/tools/.github/workflows/release.yml@refs/heads/main"
    claims = issuer.claims(repo, job_workflow_ref=elsewhere)
    refused(api, hub, issuer.sign(claims), 403, "oidc.no_publisher")


def test_a_publisher_without_environment_accepts_any(
    alice: str, api: httpx.Client, issuer: LocalIssuer
) -> None:
    name, repo = fresh()
    register(api, alice, name, repository=repo)
    for environment in ("prod", None):
        token = issuer.sign(issuer.claims(repo, environment=environment))
        assert api.post(MINT, json={"token": token}).status_code == 200


def now() -> int:
    return int(time.time())


TIMES = ("exp", "iat", "nbf")


@pytest.mark.parametrize(
    ("case", "overrides", "status", "code"),
    [
        # times are seconds from now (the leeway is 60 s)
        ("expired", {"exp": -120, "iat": -600, "nbf": -600}, 401, "oidc.expired"),
        ("not yet valid", {"nbf": 600}, 401, "oidc.not_yet_valid"),
        ("issued in the future", {"iat": 600, "nbf": DROP}, 401, "oidc.not_yet_valid"),
        ("iat not a number", {"iat": "yesterday"}, 422, "oidc.claims"),
        ("wrong audience", {"aud": "pypi"}, 401, "oidc.audience"),
        ("unknown issuer", {"iss": "https://token.evil.example"}, 401, "oidc.issuer"),
        ("no jti", {"jti": DROP}, 422, "oidc.claims"),
        ("no exp", {"exp": DROP}, 422, "oidc.claims"),
        ("no job_workflow_ref", {"job_workflow_ref": DROP}, 422, "oidc.claims"),
        ("bad job_workflow_ref", {"job_workflow_ref": "acme/x@main"}, 422, "oidc.claims"),
    ],
)  # fmt: skip
def test_bad_claims_are_refused(
    hub: LiveServer,
    alice: str,
    api: httpx.Client,
    issuer: LocalIssuer,
    case: str,
    overrides: dict[str, Any],
    status: int,
    code: str,
) -> None:
    name, repo = fresh()
    register(api, alice, name, repository=repo)
    times = {k: now() + v for k, v in overrides.items() if k in TIMES and isinstance(v, int)}
    claims = issuer.claims(repo, **{**overrides, **times})
    refused(api, hub, issuer.sign(claims), status, code)


def test_small_clock_skew_is_tolerated(alice: str, api: httpx.Client, issuer: LocalIssuer) -> None:
    name, repo = fresh()
    register(api, alice, name, repository=repo)
    skewed = issuer.claims(repo, nbf=now() + 20, iat=now() + 20, exp=now() - 20 + 300)
    assert api.post(MINT, json={"token": issuer.sign(skewed)}).status_code == 200
    just_expired = issuer.claims(repo, exp=now() - 20, iat=now() - 300, nbf=now() - 300)
    assert api.post(MINT, json={"token": issuer.sign(just_expired)}).status_code == 200


def test_forged_signatures_are_refused(
    hub: LiveServer, alice: str, api: httpx.Client, issuer: LocalIssuer
) -> None:
    name, repo = fresh()
    register(api, alice, name, repository=repo)
    claims = issuer.claims(repo)
    kid = issuer.current
    # a key of the attacker's own, under the issuer's key id
    refused(api, hub, issuer.sign(claims, kid=kid, key=new_key()), 401, "oidc.signature")
    # the honest token with its payload changed afterwards
    head, _, sig = issuer.sign(claims).split(".")
    other = forge({}, {**claims, "repository": "acme/other"}).split(".")[1]
    refused(api, hub, f"{head}.{other}.{sig}", 401, "oidc.signature")
    # alg none: no signature at all
    none = forge({"alg": "none", "typ": "JWT", "kid": kid}, claims)
    refused(api, hub, none, 401, "oidc.algorithm")
    # HS256 keyed with the issuer's public key (the classic RS/HS confusion)
    public = (
        issuer.keys[kid]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    head_hs = forge({"alg": "HS256", "typ": "JWT", "kid": kid}, claims).rsplit(".", 1)[0]
    mac = hmac.new(public, head_hs.encode(), hashlib.sha256).digest()
    hs = forge({"alg": "HS256", "typ": "JWT", "kid": kid}, claims, mac)
    refused(api, hub, hs, 401, "oidc.algorithm")
    # ES256 claimed for an RSA key
    refused(api, hub, issuer.sign(claims, kid=kid, key=new_key("ec")), 401, "oidc.algorithm")
    for garbage in ("", "not.a.jwt", "a.b", "x" * 100):
        refused(api, hub, garbage, 422, "oidc.malformed")
    # the control: the same claims, honestly signed
    assert api.post(MINT, json={"token": issuer.sign(claims)}).status_code == 200


def test_a_token_is_exchanged_once(
    hub: LiveServer, alice: str, api: httpx.Client, issuer: LocalIssuer
) -> None:
    name, repo = fresh()
    register(api, alice, name, repository=repo)
    token = issuer.sign(issuer.claims(repo))
    assert api.post(MINT, json={"token": token}).status_code == 200
    refused(api, hub, token, 401, "oidc.replay")


def test_a_refused_token_is_not_spent(
    hub: LiveServer, alice: str, api: httpx.Client, issuer: LocalIssuer
) -> None:
    """No publisher yet: refused, but its jti is not kept; once registered, it mints."""
    name, repo = fresh()
    token = issuer.sign(issuer.claims(repo))
    refused(api, hub, token, 403, "oidc.no_publisher")
    register(api, alice, name, repository=repo)
    assert api.post(MINT, json={"token": token}).status_code == 200


def test_expired_jtis_are_pruned(
    hub: LiveServer, alice: str, api: httpx.Client, issuer: LocalIssuer
) -> None:
    async def plant(h: Hub) -> None:
        async with h.sessions() as s:
            s.add(
                OidcJti(jti="old", issuer=issuer.url, expires_at=datetime(2020, 1, 1, tzinfo=UTC))
            )
            await s.commit()

    async def count(h: Hub) -> int:
        async with h.sessions() as s:
            return await s.scalar(select(func.count()).where(OidcJti.jti == "old")) or 0

    hub.run(plant)
    name, repo = fresh()
    register(api, alice, name, repository=repo)
    assert api.post(MINT, json={"token": issuer.sign(issuer.claims(repo))}).status_code == 200
    assert hub.run(count) == 0


def test_an_unknown_key_is_looked_up_again_and_a_rotated_key_works(
    hub: LiveServer, alice: str, api: httpx.Client, issuer: LocalIssuer
) -> None:
    name, repo = fresh()
    register(api, alice, name, repository=repo)
    assert api.post(MINT, json={"token": issuer.sign(issuer.claims(repo))}).status_code == 200
    fetched = issuer.jwks_requests
    rotated = issuer.rotate("ec", drop_old=True)  # the hub has not seen this key yet
    r = api.post(MINT, json={"token": issuer.sign(issuer.claims(repo))})
    assert r.status_code == 200, r.text
    assert issuer.jwks_requests == fetched + 1
    assert issuer.current == rotated
    # a key id the issuer never published: looked up, still unknown, refused
    body = refused(api, hub, issuer.sign(issuer.claims(repo), kid="nope", key=new_key()), 401,
                   "oidc.key_unknown")  # fmt: skip
    assert "nope" in body["detail"]


def test_gitlab_claims_match_a_gitlab_publisher(
    hub: LiveServer, alice: str, api: httpx.Client, gitlab: LocalIssuer, issuer: LocalIssuer
) -> None:
    name, repo = fresh()
    register(api, alice, name, kind="gitlab", repository=repo, workflow=".gitlab-ci.yml",
             environment="release")  # fmt: skip
    good = gitlab.claims(repo, ".gitlab-ci.yml", "release")
    assert api.post(MINT, json={"token": gitlab.sign(good)}).status_code == 200
    for wrong in (
        {"workflow": "other.yml"},
        {"environment": "Release"},  # GitLab environments compare exactly
        {"ci_config_ref_uri": f"gitlab.example/{repo}//.gitlab-ci.yml@refs/heads/main"},
    ):
        claims = gitlab.claims(**{"repository": repo, "workflow": ".gitlab-ci.yml",
                                  "environment": "release", **wrong})  # fmt: skip
        refused(api, hub, gitlab.sign(claims), 403, "oidc.no_publisher")
    # a GitHub token with the same repository is not a GitLab publisher
    github = issuer.claims(repo, ".gitlab-ci.yml", "release")
    refused(api, hub, issuer.sign(github), 403, "oidc.no_publisher")


def test_the_body_is_checked(api: httpx.Client) -> None:
    assert api.post(MINT, json={"jwt": "x"}).status_code == 400
    assert api.post(MINT, json={"token": "x" * 20000}).status_code == 400


def test_exchanges_are_rate_limited_per_ip(tmp_path: Path, issuer: LocalIssuer) -> None:
    server = start_hub(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}",
                       oidc=issuer.settings())  # fmt: skip
    try:
        server.hub.limits.override("mint", "3/minute")  # type: ignore[attr-defined]
        with httpx.Client(base_url=server.url) as api:
            for _ in range(3):  # refused or not, each exchange counts
                assert api.post(MINT, json={"token": "x"}).status_code == 422
            r = api.post(MINT, json={"token": issuer.sign()})
            assert r.status_code == 429
            assert problem(r)["code"] == "rate.mint" and int(r.headers["Retry-After"]) >= 1
    finally:
        server.stop()


def test_an_unreachable_issuer_is_a_retryable_answer(tmp_path: Path) -> None:
    dead = LocalIssuer("github")
    dead.stop()  # configured, but nobody answers there any more
    server = start_hub(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}",
                       oidc=dead.settings(refetch_interval=30))  # fmt: skip
    try:
        with httpx.Client(base_url=server.url, timeout=30) as api:
            for _ in range(2):  # the second does not even try again
                r = api.post(MINT, json={"token": dead.sign()})
                assert r.status_code == 503
                assert problem(r)["code"] == "oidc.issuer_unreachable"
                assert int(r.headers["Retry-After"]) >= 1
    finally:
        server.stop()
