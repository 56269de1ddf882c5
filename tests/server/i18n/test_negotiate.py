"""Which language a request gets: the picker's cookie, then Accept-Language (RFC 9110 12.5.4),
then English; nothing a client sends can make it fail."""

from __future__ import annotations

import pytest

from pysetl_hub_server.i18n.negotiate import MAX_HEADER, choose, from_header


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("es", "es"),
        ("ES", "es"),
        ("es-MX", "es"),
        ("es-419", "es"),
        ("ar-EG", "ar"),
        ("en-GB", "en"),
        ("fr", None),
        ("fr, es;q=0.5", "es"),
        ("es;q=0.5, ar", "ar"),
        ("es;q=0.5, ar;q=0.5", "es"),  # equal weights: the header's order decides
        ("es;q=0", None),  # q=0 is "not acceptable", never "least preferred"
        ("es;q=0, ar;q=0.001", "ar"),
        ("es;q=0.0, *;q=0.1", "en"),
        ("*", "en"),
        ("fr, *", "en"),
        ("es;q=abc", None),  # an unreadable weight is refused, not read as 1
        ("es;q=1.5", None),
        ("es;q=-1", None),
        (";;,,", None),
        ("q=1", None),
        ("\u00e9s", None),
    ],
)
def test_from_header(header: str | None, expected: str | None) -> None:
    assert from_header(header) == expected


def test_only_the_first_bytes_of_a_huge_header_are_read() -> None:
    assert from_header("es, " + "x" * 100_000) == "es"
    assert from_header("x" * MAX_HEADER + ", es") is None


@pytest.mark.parametrize(
    ("cookie", "header", "expected"),
    [
        ("ar", "es", "ar"),
        ("en", "es", "en"),
        ("fr", "es", "es"),  # a cookie naming no language of ours is ignored
        ("", "es", "es"),
        (None, None, "en"),
        (None, "fr", "en"),
        (None, "es-AR,es;q=0.9,en;q=0.8", "es"),
    ],
)
def test_choose(cookie: str | None, header: str | None, expected: str) -> None:
    assert choose(cookie, header) == expected
