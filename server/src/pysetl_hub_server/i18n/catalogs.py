"""The gettext catalogs shipped in `locale/`: one domain per audience (`web` for pages, `api`
for problem+json details), compiled `.mo` files loaded once per process.

`make i18n-compile` writes the `.mo` files from the `.po` files translators edit; a test keeps
the two equal, so a forgotten compile fails the suite rather than shipping stale text.
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path
from typing import Final

LOCALE_DIR: Final = Path(__file__).resolve().parent.parent / "locale"
DEFAULT: Final = "en"
# English first: the source language of every msgid, and the last resort of negotiation.
LANGUAGES: Final = ("en", "es", "ar")
RTL: Final = frozenset({"ar"})
# Each language named in itself, for the picker: a reader finds their language by its own name.
NATIVE_NAMES: Final = {"en": "English", "es": "Español", "ar": "العربية"}
DOMAINS: Final = ("web", "api")


@cache
def translations(domain: str, language: str) -> gettext.NullTranslations:
    """The catalog of `domain` for `language`; English (the msgids) when there is none."""
    if language == DEFAULT or language not in LANGUAGES:
        return gettext.NullTranslations()
    return gettext.translation(domain, LOCALE_DIR, languages=[language], fallback=True)


def direction(language: str) -> str:
    """The `dir` attribute of a page in `language`."""
    return "rtl" if language in RTL else "ltr"
