"""A refused Authorization header is never quoted back. A client that sends a bare credential
(`Authorization: ghp_...`, a GitLab or cloud token pasted into the wrong setting) would find it
in the 401 body, which CLIs print and CI jobs log in public; the hub only masks its own tokens,
so the body names no part of a header it did not understand."""

from __future__ import annotations

import httpx
import pytest

from tests.support.upload import problem

SECRETS = [
    "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
    "glpat-Zx9Yw8Vu7Ts6Rq5Po4Nm",
    "AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
]


@pytest.mark.parametrize("secret", SECRETS)
def test_a_bare_credential_is_not_quoted_in_the_refusal(http: httpx.Client, secret: str) -> None:
    for path in ("/api/v1/me", "/legacy/"):
        method = "GET" if path == "/api/v1/me" else "POST"
        r = http.request(method, path, headers={"Authorization": secret})
        assert r.status_code == 401
        assert problem(r)["code"] == "auth.scheme"
        assert secret[:8] not in r.text and secret[-8:] not in r.text
        assert "Bearer" in problem(r)["detail"]


def test_an_unknown_scheme_is_still_named(http: httpx.Client) -> None:
    r = http.get("/api/v1/me", headers={"Authorization": "Token Zx9Yw8Vu7Ts6Rq5Po4Nm"})
    assert r.status_code == 401 and problem(r)["code"] == "auth.scheme"
    assert "'Token'" in problem(r)["detail"] and "Zx9Yw8Vu" not in r.text
