"""The ranking rules every search engine shares, so they cannot drift between engines.

An exact normalized name is always first; compatibility filters evaluate the stored PEP 440
specifiers; highlights mark the query's words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from pysetl_hub_server.bounds import MAX_VERSION
from pysetl_hub_server.components.compat import admits
from pysetl_hub_server.i18n.messages import _

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def exact_name(q: str) -> str:
    return canonicalize_name(q.strip()) if q.strip() else ""


def check_version(label: str, value: str | None) -> str | None:
    from pysetl_hub_server.errors import BadRequest

    if value is None or value == "":
        return None
    if len(value) > MAX_VERSION:
        raise BadRequest(
            "search.version",
            _(
                "{label}= is {value_count} characters long; a version has at most {MAX_VERSION}",
                label=label,
                value_count=len(value),
                MAX_VERSION=MAX_VERSION,
            ),
        )
    try:
        Version(value)
    except InvalidVersion as exc:
        raise BadRequest(
            "search.version",
            _(
                "{label}={value!r} is not a version: give one like 3.5 or 1.2.1",
                label=label,
                value=value,
            ),
        ) from exc
    return value


def admitted_specs(specs: Iterable[str | None], version: str | None) -> list[str | None] | None:
    """Of the distinct stored specifiers, those that admit `version` (None: no filter)."""
    if version is None:
        return None
    return [s for s in specs if admits(s, version)]


def highlight(text: str, terms: Iterable[str], limit: int = 240) -> str:
    """`text` (cut to `limit`) with each word starting with a query term wrapped in <em>."""
    import html

    wanted = [t for t in terms if t]
    short = text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"
    if not wanted:
        return html.escape(short)
    pattern = re.compile(r"\b(" + "|".join(re.escape(t) for t in wanted) + r")[^\W_]*", re.I)
    out, last = [], 0
    for m in pattern.finditer(short):
        out.append(html.escape(short[last : m.start()]))
        out.append(f"<em>{html.escape(m.group(0))}</em>")
        last = m.end()
    out.append(html.escape(short[last:]))
    return "".join(out)


def version_facets(
    counts_by_spec: dict[str | None, int], versions: Sequence[str]
) -> dict[str, int]:
    """Facet counts per platform version from counts per stored specifier."""
    return {v: sum(n for spec, n in counts_by_spec.items() if admits(spec, v)) for v in versions}
