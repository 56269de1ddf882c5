"""Trusted publishing's rules in-process: what `verify` accepts of a CI token and how it names
each refusal, and which publisher the claims of a GitHub or GitLab job match.

The same rules as test_oidc.py, without a hub: tokens signed with a local issuer's real keys,
fetched by the real key cache over loopback; publishers are rows (unsaved, or in a migrated
SQLite for `matching_publishers`). Fast enough to judge the modules by mutation testing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import update

from pysetl_hub_server.db.migrate import upgrade
from pysetl_hub_server.db.models import Component, TrustedPublisher
from pysetl_hub_server.errors import HubError
from pysetl_hub_server.provenance.oidc.claims import (
    CiIdentity,
    identity_of,
    matches,
    matching_publishers,
)
from pysetl_hub_server.provenance.oidc.keys import IssuerKeys
from pysetl_hub_server.provenance.oidc.verify import Verified, verify
from pysetl_hub_server.runtime import open_hub
from pysetl_hub_server.settings import Oidc, OidcIssuer, Settings
from tests.support.oidc_issuer import DROP, LocalIssuer, forge, new_key

GITHUB = OidcIssuer("https://token.actions.githubusercontent.com", "github")
GITLAB = OidcIssuer("https://gitlab.example:8443", "gitlab")


@pytest.fixture(scope="module")
def issuer() -> Iterator[LocalIssuer]:
    server = LocalIssuer("github")
    yield server
    server.stop()


def now() -> int:
    return int(time.time())


async def verified(issuer: LocalIssuer, raw: str, settings: Oidc | None = None) -> Verified:
    settings = settings or issuer.settings()
    return await verify(settings, IssuerKeys(settings), raw)


async def refusal(
    issuer: LocalIssuer, raw: str, status: int, code: str, settings: Oidc | None = None
) -> str:
    """The detail of the refusal `verify` gives `raw`, after checking its status and code."""
    with pytest.raises(HubError) as refused:
        await verified(issuer, raw, settings)
    assert (refused.value.status, refused.value.code) == (status, code), refused.value.detail
    return refused.value.detail


# -- verify -------------------------------------------------------------------------------


async def test_an_honest_token_verifies(issuer: LocalIssuer) -> None:
    claims = issuer.claims("acme/csv", exp=now() + 300)
    token = await verified(issuer, issuer.sign(claims))
    assert token.issuer == OidcIssuer(issuer.url, "github")
    assert token.claims == claims
    assert token.jti == claims["jti"] and token.exp == claims["exp"]


async def test_an_ec_key_verifies_too(issuer: LocalIssuer) -> None:
    key = new_key("ec")
    issuer.keys["ec-rules"] = key
    issuer.published.append("ec-rules")
    claims = issuer.claims()
    assert (await verified(issuer, issuer.sign(claims, kid="ec-rules"))).claims == claims


@pytest.mark.parametrize("garbage", ["", "not.a.jwt", "a.b", "x" * 100])
async def test_what_is_not_a_jwt_is_malformed(issuer: LocalIssuer, garbage: str) -> None:
    detail = await refusal(issuer, garbage, 422, "oidc.malformed")
    assert detail == (
        "the OIDC token is not a JWT (three base64url parts: header.payload.signature); send "
        "the token the CI issued, unchanged"
    )


@pytest.mark.parametrize(
    ("alg", "says"), [("none", "'none'"), ("HS256", "'HS256'"), (None, "'None'")]
)
async def test_only_rs256_and_es256_are_accepted(
    issuer: LocalIssuer, alg: str | None, says: str
) -> None:
    header = {"typ": "JWT", "kid": issuer.current} | ({"alg": alg} if alg else {})
    detail = await refusal(issuer, forge(header, issuer.claims(), b"sig"), 401, "oidc.algorithm")
    assert detail == f"OIDC tokens must be signed with RS256 or ES256; this one says {says}"


async def test_an_algorithm_name_is_cut_in_the_message(issuer: LocalIssuer) -> None:
    header = {"alg": "X" * 40, "typ": "JWT", "kid": issuer.current}
    detail = await refusal(issuer, forge(header, issuer.claims(), b"sig"), 401, "oidc.algorithm")
    assert detail.endswith(f"this one says {'X' * 16!r}")


@pytest.mark.parametrize("iss", ["https://token.evil.example", 7, DROP])
async def test_an_issuer_not_configured_is_refused_and_the_accepted_ones_named(
    issuer: LocalIssuer, iss: object
) -> None:
    settings = Oidc(issuers=(OidcIssuer(issuer.url, "github"), GITLAB), allow_http=True)
    header = {"alg": "RS256", "typ": "JWT", "kid": issuer.current}  # refused before its signature
    raw = forge(header, issuer.claims(iss=iss), b"sig")
    detail = await refusal(issuer, raw, 401, "oidc.issuer", settings)
    shown = repr(str(iss)) if iss is not DROP else "'None'"
    assert detail == (
        f"this hub does not accept OIDC tokens from issuer {shown}; it accepts: "
        f"{issuer.url}, {GITLAB.url}"
    )


async def test_a_hub_without_issuers_says_it_accepts_none(issuer: LocalIssuer) -> None:
    long = "https://x.example/" + "a" * 300
    raw = issuer.sign(issuer.claims(iss=long))
    detail = await refusal(issuer, raw, 401, "oidc.issuer", Oidc(issuers=()))
    assert detail == (
        f"this hub does not accept OIDC tokens from issuer {long[:200]!r}; it accepts: none"
    )


async def test_a_signature_by_another_key_is_refused(issuer: LocalIssuer) -> None:
    raw = issuer.sign(issuer.claims(), kid=issuer.current, key=new_key())
    detail = await refusal(issuer, raw, 401, "oidc.signature")
    assert detail == "the OIDC token's signature does not verify with the issuer's key"


async def test_a_key_too_short_is_refused(issuer: LocalIssuer) -> None:
    """A 1024-bit RSA key in the issuer's JWKS verifies nothing (PyJWT's minimum length)."""
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    issuer.keys["weak"] = weak
    issuer.published.append("weak")
    with pytest.warns(jwt.warnings.InsecureKeyLengthWarning):  # the signer's side warns
        raw = issuer.sign(issuer.claims(), kid="weak")
    detail = await refusal(issuer, raw, 401, "oidc.signature")
    assert detail == "the issuer's key cannot verify this token"


@pytest.mark.parametrize(
    ("times", "code", "says"),
    [
        ({"exp": -120, "iat": -600, "nbf": -600}, "oidc.expired", "the OIDC token has expired: "
         "request a fresh one from the CI right before minting"),
        ({"nbf": 600}, "oidc.not_yet_valid", "60 s of clock skew are allowed): check the clocks"),
        ({"iat": 600, "nbf": DROP}, "oidc.not_yet_valid", "the OIDC token is not valid yet ("),
    ],
)  # fmt: skip
async def test_times_outside_the_leeway_are_refused(
    issuer: LocalIssuer, times: dict[str, Any], code: str, says: str
) -> None:
    at: dict[str, Any] = {k: v if v is DROP else now() + v for k, v in times.items()}
    claims = issuer.claims(**at)
    detail = await refusal(issuer, issuer.sign(claims), 401, code)
    assert says in detail
    if code == "oidc.expired":
        assert detail == says


async def test_clock_skew_within_the_leeway_is_tolerated(issuer: LocalIssuer) -> None:
    skewed = issuer.claims(nbf=now() + 20, iat=now() + 20, exp=now() + 280)
    await verified(issuer, issuer.sign(skewed))
    just_expired = issuer.claims(exp=now() - 20, iat=now() - 300, nbf=now() - 300)
    await verified(issuer, issuer.sign(just_expired))
    # The leeway is the setting's: with none, the same token has expired.
    no_leeway = issuer.settings(leeway=0)
    await refusal(issuer, issuer.sign(just_expired), 401, "oidc.expired", no_leeway)


async def test_a_token_for_another_audience_is_refused(issuer: LocalIssuer) -> None:
    detail = await refusal(issuer, issuer.sign(issuer.claims(aud="pypi")), 401, "oidc.audience")
    assert detail == (
        "the OIDC token is for another audience: request it for 'pysetl-hub' "
        "(GET /api/v1/oidc/audience)"
    )
    hub_audience = issuer.settings(audience="pypi")
    await verified(issuer, issuer.sign(issuer.claims(aud="pypi")), hub_audience)


@pytest.mark.parametrize("claim", ["jti", "exp", "iat", "aud"])
async def test_each_required_claim_must_be_there(issuer: LocalIssuer, claim: str) -> None:
    dropped: dict[str, Any] = {claim: DROP}
    raw = issuer.sign(issuer.claims(**dropped))
    detail = await refusal(issuer, raw, 422, "oidc.claims")
    assert detail == f"the OIDC token lacks the {claim!r} claim"


@pytest.mark.parametrize("claim", ["exp", "nbf"])
async def test_a_time_that_is_not_a_number_cannot_be_decoded(
    issuer: LocalIssuer, claim: str
) -> None:
    """PyJWT reads exp and nbf only after the signature: a signed token with `exp: "soon"`."""
    raw = issuer.sign(issuer.claims(**{claim: "soon"}))
    assert await refusal(issuer, raw, 422, "oidc.malformed") == "the OIDC token cannot be decoded"


async def test_a_malformed_iat_is_refused(issuer: LocalIssuer) -> None:
    raw = issuer.sign(issuer.claims(iat="yesterday"))
    detail = await refusal(issuer, raw, 422, "oidc.claims")
    assert detail.startswith("the OIDC token's claims are malformed: ")


@pytest.mark.parametrize("jti", ["", "j" * 256])
async def test_the_jti_must_be_a_short_string(issuer: LocalIssuer, jti: object) -> None:
    raw = issuer.sign(issuer.claims(jti=jti))
    detail = await refusal(issuer, raw, 422, "oidc.claims")
    assert detail == "the OIDC token's `jti` is not a short string"


async def test_what_else_pyjwt_finds_invalid_is_refused_in_its_words(issuer: LocalIssuer) -> None:
    """PyJWT checks the jti's type itself (since 2.10): the refusal passes its reason on."""
    detail = await refusal(issuer, issuer.sign(issuer.claims(jti=7)), 401, "oidc.invalid")
    assert detail == "the OIDC token is invalid: JWT ID must be a string"


@pytest.mark.parametrize("jti", ["j", "j" * 255])
async def test_a_jti_of_1_to_255_characters_is_short_enough(issuer: LocalIssuer, jti: str) -> None:
    assert (await verified(issuer, issuer.sign(issuer.claims(jti=jti)))).jti == jti


# -- claims: whose job the token is -----------------------------------------------------


def github(**claims: Any) -> dict[str, Any]:
    base = {
        "repository": "acme/csv",
        "job_workflow_ref": "acme/csv/.github/workflows/release.yml@refs/tags/v1",
    }
    return {k: v for k, v in (base | claims).items() if v is not DROP}


def gitlab(**claims: Any) -> dict[str, Any]:
    base = {
        "project_path": "group/csv",
        "ci_config_ref_uri": "gitlab.example:8443/group/csv//.gitlab-ci.yml@refs/heads/main",
    }
    return {k: v for k, v in (base | claims).items() if v is not DROP}


def unprocessable(issuer: OidcIssuer, claims: dict[str, Any]) -> str:
    with pytest.raises(HubError) as refused:
        identity_of(issuer, claims)
    assert (refused.value.status, refused.value.code) == (422, "oidc.claims")
    return refused.value.detail


def test_a_github_job_is_its_repository_workflow_file_environment_and_ref() -> None:
    ci = identity_of(GITHUB, github(environment="release"))
    assert ci == CiIdentity("github", "acme/csv", "release.yml", "release", "refs/tags/v1")
    assert identity_of(GITHUB, github()).environment is None
    assert ci.describe() == (
        "github repository 'acme/csv', workflow 'release.yml', environment 'release'"
    )
    assert identity_of(GITHUB, github()).describe().endswith(", no environment")
    assert ci.matched() == {
        "repository": "acme/csv",
        "workflow": "release.yml",
        "environment": "release",
        "ref": "refs/tags/v1",
    }


def test_a_workflow_of_the_same_repository_in_another_case_is_its_own() -> None:
    ref = "ACME/Csv/.github/workflows/release.yml@refs/tags/v1"
    assert identity_of(GITHUB, github(job_workflow_ref=ref)).workflow == "release.yml"


def test_a_ref_may_hold_an_at_sign() -> None:
    """Git allows `@` in branch names: the ref is everything after the first `@`."""
    ref = "acme/csv/.github/workflows/release.yml@refs/heads/release@v2"
    ci = identity_of(GITHUB, github(job_workflow_ref=ref))
    assert (ci.workflow, ci.ref) == ("release.yml", "refs/heads/release@v2")
    uri = "gitlab.example:8443/group/csv//.gitlab-ci.yml@refs/heads/release@v2"
    ci = identity_of(GITLAB, gitlab(ci_config_ref_uri=uri))
    assert (ci.workflow, ci.ref) == (".gitlab-ci.yml", "refs/heads/release@v2")


def test_the_gitlab_project_ends_at_the_first_double_slash() -> None:
    uri = "gitlab.example:8443/group/csv//ci//release.yml@v1"
    assert identity_of(GITLAB, gitlab(ci_config_ref_uri=uri)).workflow == "ci//release.yml"


def test_a_reusable_workflow_of_another_repository_keeps_its_full_path() -> None:
    ref = "evil/tools/.github/workflows/release.yml@refs/heads/main"
    ci = identity_of(GITHUB, github(job_workflow_ref=ref))
    assert ci.workflow == "evil/tools/.github/workflows/release.yml"
    assert ci.ref == "refs/heads/main"


@pytest.mark.parametrize(
    "ref",
    [
        "acme/csv/.github/workflows/release.yml",  # no @REF
        "acme/csv/.github/workflows/release.yml@",  # an empty ref
        "acme/csv/.github/workflows/@refs/tags/v1",  # no file
        "acme/csv/workflows/release.yml@refs/tags/v1",  # not under .github/workflows
        "acme/csv/.github/workflows/sub/release.yml@refs/tags/v1",  # a file in a subfolder
        "acme/csv/.github/workflows/.github/workflows/release.yml@v1",  # ... of that name
    ],
)
def test_a_job_workflow_ref_not_of_the_documented_shape_is_refused(ref: str) -> None:
    assert unprocessable(GITHUB, github(job_workflow_ref=ref)) == (
        "the OIDC token's job_workflow_ref is not OWNER/REPO/.github/workflows/FILE@REF"
    )


@pytest.mark.parametrize(
    ("issuer", "claims", "name"),
    [
        (GITHUB, github(repository=DROP), "repository"),
        (GITHUB, github(repository=""), "repository"),
        (GITHUB, github(repository=["acme/csv"]), "repository"),
        (GITHUB, github(repository="a" * 1025), "repository"),
        (GITHUB, github(job_workflow_ref=DROP), "job_workflow_ref"),
        (GITHUB, github(environment=""), "environment"),
        (GITHUB, github(environment=5), "environment"),
        (GITLAB, gitlab(project_path=DROP), "project_path"),
        (GITLAB, gitlab(ci_config_ref_uri=DROP), "ci_config_ref_uri"),
        (GITLAB, gitlab(environment=""), "environment"),
    ],
)
def test_a_claim_missing_or_unusable_is_named(
    issuer: OidcIssuer, claims: dict[str, Any], name: str
) -> None:
    assert unprocessable(issuer, claims) == f"the OIDC token lacks a usable {name!r} claim"


def test_a_claim_of_1024_characters_is_usable() -> None:
    repository = "a" * 1024
    assert identity_of(GITHUB, github(repository=repository)).repository == repository


def test_a_gitlab_job_is_its_project_config_path_environment_and_ref() -> None:
    ci = identity_of(GITLAB, gitlab(environment="release"))
    assert ci == CiIdentity("gitlab", "group/csv", ".gitlab-ci.yml", "release", "refs/heads/main")
    # host and project compare case-insensitively
    uri = "GITLAB.example:8443/Group/CSV//ci/release.yml@v1"
    assert identity_of(GITLAB, gitlab(ci_config_ref_uri=uri)).workflow == "ci/release.yml"


@pytest.mark.parametrize(
    "uri",
    [
        "gitlab.other:8443/group/csv//.gitlab-ci.yml@refs/heads/main",  # another host
        "gitlab.example/group/csv//.gitlab-ci.yml@refs/heads/main",  # another port
        "gitlab.example:8443/group/tools//.gitlab-ci.yml@refs/heads/main",  # another project
    ],
)
def test_a_pipeline_defined_elsewhere_keeps_its_full_uri(uri: str) -> None:
    assert identity_of(GITLAB, gitlab(ci_config_ref_uri=uri)).workflow == uri


@pytest.mark.parametrize(
    "uri",
    [
        "gitlab.example:8443/group/csv/.gitlab-ci.yml@refs/heads/main",  # no //
        "gitlab.example:8443/group/csv//.gitlab-ci.yml",  # no @REF
        "gitlab.example:8443/group/csv//.gitlab-ci.yml@",  # an empty ref
        "gitlab.example:8443/group/csv//@refs/heads/main",  # no path
    ],
)
def test_a_ci_config_ref_uri_not_of_the_documented_shape_is_refused(uri: str) -> None:
    assert unprocessable(GITLAB, gitlab(ci_config_ref_uri=uri)) == (
        "the OIDC token's ci_config_ref_uri is not HOST/PROJECT//PATH@REF"
    )


# -- matches: which publisher the job is ---------------------------------------------------


def publisher(kind: str = "github", **fields: Any) -> TrustedPublisher:
    workflow = "release.yml" if kind == "github" else ".gitlab-ci.yml"
    repository = "acme/csv" if kind == "github" else "group/csv"
    values = {"repository": repository, "workflow": workflow, "environment": None} | fields
    return TrustedPublisher(kind=kind, spec="x", **values)


GH = CiIdentity("github", "acme/csv", "release.yml", "release", "refs/tags/v1")
GL = CiIdentity("gitlab", "group/csv", ".gitlab-ci.yml", "release", "refs/heads/main")


@pytest.mark.parametrize(
    ("case", "row", "ci", "matched"),
    [
        ("github: the same", publisher(), GH, True),
        ("repository in another case", publisher(repository="Acme/CSV"), GH, True),
        ("another repository", publisher(repository="acme/other"), GH, False),
        ("another workflow", publisher(workflow="nightly.yml"), GH, False),
        ("a workflow file in another case", publisher(workflow="Release.yml"), GH, False),
        ("a GitHub workflow with a slash", publisher(workflow="/release.yml"), GH, False),
        ("another kind", publisher("gitlab", repository="acme/csv", workflow="release.yml"),
         GH, False),
        ("a sigstore publisher", publisher("sigstore", repository=None, workflow=None),
         CiIdentity("sigstore", "", "", None, ""), False),
        ("no repository", publisher(repository=None), GH, False),
        ("no workflow", publisher(workflow=None), GH, False),
        ("environment the same", publisher(environment="release"), GH, True),
        ("GitHub environments in any case", publisher(environment="RELEASE"), GH, True),
        ("another environment", publisher(environment="staging"), GH, False),
        ("no environment in the token", publisher(environment="release"),
         CiIdentity("github", "acme/csv", "release.yml", None, "v1"), False),
        ("a publisher without environment: any", publisher(), GH, True),
        ("... or none", publisher(),
         CiIdentity("github", "acme/csv", "release.yml", None, "v1"), True),
        ("gitlab: the same", publisher("gitlab"), GL, True),
        ("gitlab: a leading slash", publisher("gitlab", workflow="/.gitlab-ci.yml"), GL, True),
        ("gitlab: only slashes are stripped", publisher("gitlab", workflow="X/ci.yml"),
         CiIdentity("gitlab", "group/csv", "X/ci.yml", None, "v1"), True),
        ("gitlab: environments exactly", publisher("gitlab", environment="Release"), GL, False),
        ("gitlab: environment the same", publisher("gitlab", environment="release"), GL, True),
        ("gitlab: no environment in the token", publisher("gitlab", environment="release"),
         CiIdentity("gitlab", "group/csv", ".gitlab-ci.yml", None, "v1"), False),
    ],
)  # fmt: skip
def test_which_publisher_a_job_is(
    case: str, row: TrustedPublisher, ci: CiIdentity, matched: bool
) -> None:
    assert matches(row, ci) is matched, case


async def test_matching_publishers_are_every_component_s_oldest_first(
    tmp_path: Path, database_url: str
) -> None:
    await asyncio.to_thread(upgrade, database_url)
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url)
    async with open_hub(settings) as hub, hub.sessions() as session:
        components = [Component(name=n, display_name=n) for n in ("one", "two", "three", "four")]
        session.add_all(components)
        await session.flush()
        one, two, three, four = components
        rows = [
            (two, "github", "a", "ACME/csv", "release.yml", None),
            (one, "github", "b", "acme/csv", "release.yml", "release"),
            (three, "github", "c", "acme/csv", "nightly.yml", None),
            (four, "gitlab", "d", "acme/csv", "release.yml", None),
            (four, "github", "e", "acme/other", "release.yml", None),
        ]
        session.add_all(
            TrustedPublisher(
                component_id=c.id, kind=kind, spec=spec, repository=repo, workflow=workflow,
                environment=environment,
            )
            for c, kind, spec, repo, workflow, environment in rows
        )  # fmt: skip
        await session.commit()
        # An edit moves a row on disk (PostgreSQL writes a new version), not in age.
        await session.execute(
            update(TrustedPublisher)
            .where(TrustedPublisher.spec == "a")
            .values(workflow="release.yml")
        )
        await session.commit()
        found = await matching_publishers(session, GH)
        assert [(p.spec, c.name) for p, c in found] == [("a", "two"), ("b", "one")]
