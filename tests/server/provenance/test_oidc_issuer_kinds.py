"""One issuer per CI kind. A GitHub or GitLab publisher names a repository, not an issuer: a hub
that trusted gitlab.com and a self-managed GitLab at once let a project path registered on
either mint tokens for the other's publishers (`gitlab:acme/tool/.gitlab-ci.yml` meant for one,
matched by a job of `acme/tool` on the other). Such a configuration is refused at start-up."""

from __future__ import annotations

import pytest

from pysetl_hub_server.settings import (
    GITHUB_ACTIONS_ISSUER,
    GITLAB_ISSUER,
    Oidc,
    OidcIssuer,
    Settings,
    SettingsError,
)


def test_two_issuers_of_one_kind_are_refused_from_the_environment() -> None:
    env = {
        "PYSETL_HUB_OIDC_ISSUERS": (
            f"{GITHUB_ACTIONS_ISSUER},{GITLAB_ISSUER},gitlab=https://git.example.org"
        )
    }
    with pytest.raises(SettingsError, match=r"2 gitlab issuers .*trust one gitlab issuer"):
        Settings.from_env(env)
    # A self-managed GitLab instead of gitlab.com is fine.
    env["PYSETL_HUB_OIDC_ISSUERS"] = f"{GITHUB_ACTIONS_ISSUER},gitlab=https://git.example.org"
    kinds = [i.kind for i in Settings.from_env(env).oidc.issuers]
    assert kinds == ["github", "gitlab"]


def test_two_issuers_of_one_kind_are_refused_when_built_in_code() -> None:
    with pytest.raises(SettingsError, match="2 github issuers"):
        Oidc(
            issuers=(
                OidcIssuer(GITHUB_ACTIONS_ISSUER, "github"),
                OidcIssuer("https://ghe.example.org/_services/token", "github"),
            )
        )
    same = OidcIssuer(GITLAB_ISSUER, "gitlab")
    assert Oidc(issuers=(same, same)).issuers == (same, same)  # one issuer, named twice
