"""The Jinja environment of each language: autoescaped templates, gettext from the `web`
catalog, and filters that format for the reader's locale."""

from __future__ import annotations

import hashlib
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, Final

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from pysetl_hub_server.i18n import formatting
from pysetl_hub_server.i18n.catalogs import LANGUAGES, NATIVE_NAMES, direction, translations

HERE: Final = Path(__file__).resolve().parent
TEMPLATES: Final = HERE / "templates"
STATIC: Final = HERE / "static"


@cache
def static_url(path: str) -> str:
    """`/static/<path>?v=<digest>`: the digest changes with the file, so the file itself may be
    cached for a year."""
    digest = hashlib.sha256((STATIC / path).read_bytes()).hexdigest()[:12]
    return f"/static/{path}?v={digest}"


@cache
def environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        enable_async=False,
    )
    env.install_gettext_translations(translations("web", language), newstyle=True)  # type: ignore[attr-defined]
    env.filters["date"] = lambda value: formatting.date(value, language)
    env.filters["timestamp"] = lambda value: formatting.timestamp(value, language)
    env.filters["ago"] = lambda value: formatting.ago(value, language)
    env.filters["number"] = lambda value: formatting.number(value, language)
    env.filters["size"] = lambda value: formatting.size(value, language)
    env.globals.update(
        static=static_url,
        language=language,
        direction=direction(language),
        languages=[(code, NATIVE_NAMES[code]) for code in LANGUAGES],
    )
    return env


def render(language: str, template: str, **context: Any) -> str:
    return environment(language).get_template(template).render(**context)


def iso(value: datetime) -> str:
    return value.isoformat()
