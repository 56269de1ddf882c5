"""The one rule for text users give the hub to show others."""

from __future__ import annotations

import pytest

from pysetl_hub_server.text import BIDI_CONTROLS, describe, forbidden_character


@pytest.mark.parametrize(
    ("text", "multiline", "found"),
    [
        ("plain words, caf\u00e9, \u0645\u0631\u062d\u0628\u0627", False, None),
        ("tab\tis text", False, None),
        ("line\nbreak", False, "\n"),
        ("line\nbreak\r\nand\fpage\vbreaks", True, None),
        ("page\fbreak", False, "\f"),
        ("vertical\vtab", False, "\v"),
        ("carriage\rreturn", False, "\r"),
        ("nul\x00", True, "\x00"),
        ("unit separator\x1f", True, "\x1f"),
        ("space \x20 and tilde ~ are text", False, None),
        ("Xylophone XX", False, None),
        ("del\x7f", True, "\x7f"),
        ("c1 \x9f", True, "\x9f"),
        ("nbsp\u00a0is text", False, None),
        ("first\x07then\x1b", True, "\x07"),
        ("a\u202eb", False, "\u202e"),
        ("a\u202eb", True, None),  # a README may hold right-to-left text
        ("a\u2069b", False, "\u2069"),
        ("lrm\u200fis a mark, not an override", False, None),
    ],
)
def test_forbidden_character(text: str, multiline: bool, found: str | None) -> None:
    assert forbidden_character(text, multiline=multiline) == found


def test_every_override_and_isolate_is_listed() -> None:
    assert {f"{ord(c):04X}" for c in BIDI_CONTROLS} == {
        "202A", "202B", "202C", "202D", "202E", "2066", "2067", "2068", "2069"
    }  # fmt: skip


def test_describe_names_the_code_point_and_what_it_is() -> None:
    assert describe("\u202e") == "U+202E, a bidirectional override"
    assert describe("\x07") == "U+0007, a control character"


@pytest.mark.parametrize(
    ("text", "multiline"), [("tab\tthen\x07", False), ("line\nthen\x00", True)]
)
def test_the_scan_goes_on_past_allowed_whitespace(text: str, multiline: bool) -> None:
    assert forbidden_character(text, multiline=multiline) is not None
