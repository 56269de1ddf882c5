"""The words the CLI and the library's errors print, in the user's language.

Standard library `gettext` only, with the compiled catalogs shipped in the package
(`locale/<lang>/LC_MESSAGES/cli.mo`, gettext domain `cli`; docs/dev/translations.md). The
language comes from the environment as gettext reads it: LANGUAGE, then LC_ALL, LC_MESSAGES
and LANG, the first one set wins; C, POSIX and any language without a catalog read English,
the source text. The catalog is looked up again whenever those variables change, so a test
that sets LANG (in a subprocess, with monkeypatch or with click's CliRunner) gets its language.

Messages take named fields, never positional ones, so a translation may reorder them:
`_("{name} is not on this hub").format(name=name)`. `N_` marks a text for the catalog where
it is defined (a class attribute, a table) and `_` translates it where it is shown.
"""

from __future__ import annotations

import gettext
import os
from functools import lru_cache
from pathlib import Path

DOMAIN = "cli"
LOCALE_DIR = Path(__file__).parent / "locale"
# gettext's order (gettext.find): the first of these that is set and not empty decides.
ENVIRONMENT = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


def _environment() -> tuple[str, ...]:
    return tuple(os.environ.get(name, "") for name in ENVIRONMENT)


@lru_cache(maxsize=8)
def _catalog(environment: tuple[str, ...]) -> gettext.NullTranslations:
    """The catalog for these values of ENVIRONMENT (gettext reads them from os.environ, which
    holds exactly these: the argument is the cache key)."""
    del environment
    return gettext.translation(DOMAIN, LOCALE_DIR, fallback=True)


def translations() -> gettext.NullTranslations:
    """The catalog of the language the environment asks for (English: the identity)."""
    return _catalog(_environment())


def accept_language() -> str | None:
    """The language to ask the hub for (its problem details come back in it), when the CLI
    speaks one other than English: `es` for LANG=es_ES.UTF-8."""
    if isinstance(translations(), gettext.GNUTranslations):
        for value in _environment():
            if value:
                tag = value.split(":")[0].split(".")[0].split("@")[0]
                return tag.split("_")[0] or None
    return None


def reset() -> None:
    """Forget the catalogs read so far (after replacing a .mo file, say)."""
    _catalog.cache_clear()


def _(message: str) -> str:
    """`message` in the user's language."""
    return translations().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or the plural form of a message for `n`, in the user's language (which
    may have more than two forms)."""
    return translations().ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """`message` in the user's language, where the same English word needs telling apart
    (the column `from` is where a request came from, or who sent an invitation)."""
    return translations().pgettext(context, message)


def N_(message: str) -> str:
    """Marks `message` for the catalog without translating it: `_()` translates it where it
    is shown."""
    return message


def use_for_click() -> None:
    """Let click's own words (Usage:, Error:, Missing argument ...) come from this catalog.

    click translates with the module-level `gettext.gettext`, which reads the process's
    current domain: this binds the `cli` domain to the catalogs here and makes it current.
    The CLI calls this as it starts; the library never does.
    """
    gettext.bindtextdomain(DOMAIN, str(LOCALE_DIR))
    gettext.textdomain(DOMAIN)
