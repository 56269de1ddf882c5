"""The lazy problem messages: English by str() (byte-identical to the f-strings they replaced),
translated on demand, parameters never translated unless they are messages themselves."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest

import pysetl_hub_server
from pysetl_hub_server.errors import HubError, NotFound
from pysetl_hub_server.i18n import messages
from pysetl_hub_server.i18n.messages import Message, _, joined, localize

SERVER = Path(pysetl_hub_server.__file__).resolve().parent


def test_english_is_what_the_f_string_wrote() -> None:
    name, when, size = "csv-dedupe", datetime(2026, 1, 2, 3, 4, tzinfo=UTC), 1234567
    message = _(
        "{name!r} at {when:%Y-%m-%d %H:%M}, {size:,} bytes, {{literal}}",
        name=name,
        when=when,
        size=size,
    )
    assert str(message) == f"{name!r} at {when:%Y-%m-%d %H:%M}, {size:,} bytes, {{literal}}"


def test_the_error_keeps_english_detail_and_the_message() -> None:
    message = _("no component named {name!r} on this hub", name="x")
    error = NotFound("component.missing", message)
    assert error.detail == str(error) == "no component named 'x' on this hub"
    assert error.message is message
    plain = HubError("some.code", "plain text")
    assert plain.detail == plain.message == "plain text"


def test_parameters_stay_verbatim_in_a_translation() -> None:
    hostile = "{name} %(x)s <b>'\u202e"
    text = _("no component named {name!r} on this hub", name=hostile).translate("es")
    assert text == f"no existe ningún componente llamado {hostile!r} en este hub"


def test_nested_messages_follow_the_language() -> None:
    outer = _(
        "too many {words}: the limit is {item}; try again in {retry} s",
        words=_("sign-in attempts"),
        item="10 per 5 minutes",
        retry=3,
    )
    assert (
        str(outer) == "too many sign-in attempts: the limit is 10 per 5 minutes; try again in 3 s"
    )
    assert "intentos de inicio de sesión" in outer.translate("es")
    assert "10 per 5 minutes" in outer.translate("es")


def test_joined_lists_are_no_msgid_but_translate_their_parts() -> None:
    parts = joined(
        [
            joined(["components", _("{names} is outside this token's scope", names="'a'")], ": "),
            "x{y}",
        ],
        "; ",
    )
    assert str(parts) == "components: 'a' is outside this token's scope; x{y}"
    assert parts.translate("es") == "components: 'a' queda fuera del alcance de este token; x{y}"


@pytest.mark.parametrize("language", ["en", "fr", "xx", ""])
def test_unknown_languages_are_english(language: str) -> None:
    message = _("no component named {name!r} on this hub", name="x")
    assert message.translate(language) == str(message)
    assert localize(message, language) == str(message)
    assert localize("plain", language) == "plain"


def test_a_broken_translation_falls_back_to_english(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        def gettext(self, msgid: str) -> str:
            return "roto {missing_field}"

    monkeypatch.setattr(messages, "translations", lambda domain, language: Broken())
    message = _("no component named {name!r} on this hub", name="x")
    assert message.translate("es") == "no component named 'x' on this hub"


def _detail_arguments() -> list[tuple[str, int, str]]:
    """Every error constructed in the server with a literal or f-string detail."""
    errors = {
        "HubError",
        "InvalidUpload",
        "BadRequest",
        "Unauthorized",
        "Forbidden",
        "RequestTimeout",
        "NotFound",
        "Conflict",
        "PayloadTooLarge",
        "ServiceUnavailable",
        "TooManyRequests",
        "InsufficientStorage",
        "NotAcceptable",
        "Unprocessable",
    }
    found = []
    for path in sorted(SERVER.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or len(node.args) < 2:
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            detail = node.args[1]
            if name in errors and isinstance(detail, ast.JoinedStr | ast.Constant | ast.BinOp):
                found.append((str(path.relative_to(SERVER)), node.lineno, ast.unparse(detail)))
    return found


def test_every_problem_detail_is_a_message() -> None:
    """A detail written as a plain string would reach every client in English: each one is
    a `_()` message (or a variable holding one), so `make i18n-extract` finds it."""
    assert _detail_arguments() == []


def test_message_is_not_a_str() -> None:
    """Code that needs text must say str(): a Message is never silently used as one."""
    assert not isinstance(_("x"), str)
    assert isinstance(_("x"), Message)
