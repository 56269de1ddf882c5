"""The guides: Markdown files under `guides/<language>/<slug>.md`, shown in the reader's
language when translated and in English otherwise (the page says so)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

from pysetl_hub_server.errors import NotFound
from pysetl_hub_server.i18n.catalogs import DEFAULT
from pysetl_hub_server.i18n.messages import _
from pysetl_hub_server.web import readme

GUIDES: Final = Path(__file__).resolve().parent / "guides"
ORDER: Final = ("publish", "install")


@dataclass(frozen=True, slots=True)
class Guide:
    slug: str
    title: str
    html: str
    language: str  # the language it is written in (English when not translated)


def _title(text: str, slug: str) -> str:
    for line in text.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return slug


@cache
def load(slug: str, language: str) -> Guide:
    if slug not in ORDER:
        raise NotFound("guide.missing", _("no guide named {slug!r}: see /guides", slug=slug))
    for lang in (language, DEFAULT):
        path = GUIDES / lang / f"{slug}.md"
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            return Guide(slug, _title(text, slug), readme.render(text, "text/markdown"), lang)
    raise NotFound("guide.missing", _("the guide {slug!r} is not installed on this hub", slug=slug))


def index(language: str) -> list[Guide]:
    found = []
    for slug in ORDER:
        try:
            found.append(load(slug, language))
        except NotFound:
            continue
    return found
