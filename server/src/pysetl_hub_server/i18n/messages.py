"""Problem details as lazy messages: the English msgid and its parameters travel with the
error, and the language is picked only when the response is written (`problems.py`).

A msgid is a `str.format` template with named fields (`{name!r}`, `{size:,}`), so the English
text is exactly what the f-string it replaced wrote, and a translation may reorder the fields.
Parameters are not translated (names, versions, what the client sent), except those that are
themselves a `Message` (a clause chosen by the caller), which follow the same language.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Final

from pysetl_hub_server.i18n.catalogs import translations

DOMAIN: Final = "api"
log = logging.getLogger("pysetl_hub_server")


class Message:
    """A msgid with `{named}` placeholders and their values; `str()` is the English text."""

    __slots__ = ("msgid", "params")

    def __init__(self, msgid: str, params: dict[str, Any]) -> None:
        self.msgid = msgid
        self.params = params

    def __str__(self) -> str:
        return self.msgid.format(**self.params)

    def __repr__(self) -> str:
        return f"Message({self.msgid!r}, {self.params!r})"

    def translate(self, language: str) -> str:
        """The text in `language`; English when the catalog lacks it or its template is broken
        (a translator's typo must not turn a 404 into a 500)."""
        params = {
            key: value.translate(language) if isinstance(value, Message) else value
            for key, value in self.params.items()
        }
        template = translations(DOMAIN, language).gettext(self.msgid)
        try:
            return template.format(**params)
        except (KeyError, IndexError, ValueError) as exc:
            log.warning("broken %s translation of %r: %s", language, self.msgid, exc)
            return self.msgid.format(**params)


def N_(msgid: str) -> str:
    """Mark a constant msgid (an HTTP reason phrase) for extraction; looked up when written."""
    return msgid


def _(msgid: str, /, **params: Any) -> Message:
    """Mark `msgid` for extraction (`make i18n-extract`) and bind its parameters."""
    return Message(msgid, params)


def joined(parts: Sequence[str | Message], separator: str = ", ") -> Message:
    """A list of parts (each translated when a Message) joined by `separator`: a list is not a
    sentence, so it is no msgid of its own and the catalog never holds it."""
    params = {f"part{index}": part for index, part in enumerate(parts)}
    between = separator.replace("{", "{{").replace("}", "}}")
    return Message(between.join("{" + key + "}" for key in params), params)


def localize(text: str | Message, language: str) -> str:
    """`text` in `language`: a Message is translated, a plain string stays as it is."""
    return text.translate(language) if isinstance(text, Message) else text
