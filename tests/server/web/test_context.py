"""The visitor's forms and redirects (web/context.py), without a server."""

from __future__ import annotations

import pytest

from pysetl_hub_server.accounts.permissions import Identity
from pysetl_hub_server.errors import Forbidden, Unauthorized
from pysetl_hub_server.web.context import CSRF_FIELD, Visitor, check_form, local_path, memo_key


def signed_in(csrf: str = "a" * 64) -> Visitor:
    who = Identity(user_id=1, username="alice", token_id=None, components=None,
                   actions=frozenset({"upload"}), is_admin=False)  # fmt: skip
    return Visitor(language="en", path="/account", query="", identity=who, csrf=csrf)


def test_a_form_passes_only_with_the_sessions_token() -> None:
    visitor = signed_in()
    assert check_form(visitor, {CSRF_FIELD: "a" * 64}) is visitor.identity
    for sent in ({}, {CSRF_FIELD: ""}, {CSRF_FIELD: "a" * 63}, {CSRF_FIELD: "a" * 64 + "b"},
                 {CSRF_FIELD: "b" * 64}, {"other": "a" * 64}):  # fmt: skip
        with pytest.raises(Forbidden) as refused:
            check_form(visitor, sent)
        assert refused.value.code == "auth.csrf"
        assert refused.value.detail == (
            "this form is out of date or did not come from this hub's pages: reload the page "
            "and send it again"
        )


def test_a_form_from_a_visitor_who_is_not_signed_in_is_refused() -> None:
    with pytest.raises(Unauthorized) as refused:
        check_form(Visitor(language="en", path="/", query=""), {CSRF_FIELD: "x"})
    assert (refused.value.code, refused.value.detail) == (
        "auth.signin_required",
        "sign in to do this",
    )
    no_token = signed_in()
    no_token.csrf = None
    with pytest.raises(Unauthorized):
        check_form(no_token, {CSRF_FIELD: "x"})


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "/\\evil.example", "\\\\evil.example",
     "javascript:alert(1)", "evil.example", "/\r\nSet-Cookie: x=1", "/a\x00b", "http:/evil",
     "", None, "/ok\tx", "/ok x"],
)  # fmt: skip
def test_redirect_targets_stay_on_the_hub(target: str | None) -> None:
    assert local_path(target) == "/"
    assert local_path(target, "/account") == "/account"


def test_local_paths_are_kept_whole() -> None:
    for target in ("/", "/components/x", "/search?q=a%20b&page=2", "/account#tokens"):
        assert local_path(target) == target


def test_only_anonymous_pages_are_memoized() -> None:
    anonymous = Visitor(language="es", path="/", query="")
    assert memo_key(anonymous, "home") == ("home", "es", "page")
    anonymous.partial = True
    assert memo_key(anonymous, "home") == ("home", "es", "partial")
    assert memo_key(signed_in(), "home") is None
