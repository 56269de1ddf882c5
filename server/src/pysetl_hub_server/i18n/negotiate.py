"""Which language a request is answered in: the picker's cookie, then Accept-Language, then
English. API clients send no cookie, so problem details follow Accept-Language alone."""

from __future__ import annotations

from typing import Final

from babel import Locale, UnknownLocaleError

from pysetl_hub_server.i18n.catalogs import DEFAULT, LANGUAGES

COOKIE: Final = "pysetl_hub_lang"
MAX_HEADER: Final = 512  # longer Accept-Language headers are not parsed (a client's mistake)


def _ranked(accept_language: str) -> list[str]:
    """The tags of an Accept-Language header, best first (RFC 9110 12.5.4); q=0 means never."""
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate(accept_language[:MAX_HEADER].split(",")):
        tag, _, params = item.strip().partition(";")
        tag = tag.strip()
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and 0 < quality <= 1:
            ranked.append((-quality, index, tag))
    return [tag for _, _, tag in sorted(ranked)]


def from_header(accept_language: str | None) -> str | None:
    """The best language of ours that the header asks for, or None."""
    if not accept_language:
        return None
    for tag in _ranked(accept_language):
        if tag == "*":
            return DEFAULT
        try:
            locale = Locale.parse(tag, sep="-")
        except (ValueError, UnknownLocaleError):
            continue
        if locale.language in LANGUAGES:
            return locale.language
    return None


def choose(cookie: str | None, accept_language: str | None) -> str:
    """The picker's choice when it names one of ours, then the header, then English."""
    if cookie in LANGUAGES:
        return cookie
    return from_header(accept_language) or DEFAULT
