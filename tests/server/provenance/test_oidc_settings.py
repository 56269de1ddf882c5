"""Trusted-publishing settings: which issuers, which audience, and http only when asked."""

from __future__ import annotations

import pytest

from pysetl_hub_server.settings import (
    GITHUB_ACTIONS_ISSUER,
    GITLAB_ISSUER,
    OidcIssuer,
    Settings,
    SettingsError,
)


def test_defaults_trust_github_actions_and_gitlab_com() -> None:
    oidc = Settings.from_env({}).oidc
    assert oidc.issuers == (
        OidcIssuer(GITHUB_ACTIONS_ISSUER, "github"),
        OidcIssuer(GITLAB_ISSUER, "gitlab"),
    )
    assert oidc.audience == "pysetl-hub" and not oidc.allow_http


def test_issuers_and_audience_from_the_environment() -> None:
    env = {
        "PYSETL_HUB_OIDC_ISSUERS": f"{GITHUB_ACTIONS_ISSUER}, gitlab=https://git.example.org/",
        "PYSETL_HUB_OIDC_AUDIENCE": "hub.example.org",
    }
    oidc = Settings.from_env(env).oidc
    assert oidc.issuers == (
        OidcIssuer(GITHUB_ACTIONS_ISSUER, "github"),
        OidcIssuer("https://git.example.org", "gitlab"),
    )
    assert oidc.audience == "hub.example.org"
    assert Settings.from_env({"PYSETL_HUB_OIDC_ISSUERS": ""}).oidc.issuers == ()


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"PYSETL_HUB_OIDC_ISSUERS": "https://ci.example.org"}, "github=URL or gitlab=URL"),
        ({"PYSETL_HUB_OIDC_ISSUERS": "circle=https://ci.example.org"}, "github=URL"),
        ({"PYSETL_HUB_OIDC_ISSUERS": "gitlab=http://127.0.0.1:9"}, "must be an https URL"),
    ],
)
def test_bad_issuers_fail_fast(env: dict[str, str], words: str) -> None:
    with pytest.raises(SettingsError, match=words):
        Settings.from_env(env)


def test_plain_http_only_with_the_explicit_setting() -> None:
    env = {
        "PYSETL_HUB_OIDC_ISSUERS": "github=http://127.0.0.1:9",
        "PYSETL_HUB_OIDC_ALLOW_HTTP": "1",
    }
    oidc = Settings.from_env(env).oidc
    assert oidc.allow_http and oidc.issuers == (OidcIssuer("http://127.0.0.1:9", "github"),)
