"""PEP 691 content negotiation: which index format a request asks for.

Framework-free, so the hot path and the handlers negotiate with the same function.
"""

from __future__ import annotations

from pysetl_hub_server.answers import HTML_TYPE, JSON_TYPE, TEXT_HTML
from pysetl_hub_server.errors import HubError, NotFound
from pysetl_hub_server.i18n.messages import _

__all__ = ["HTML_TYPE", "JSON_TYPE", "TEXT_HTML", "NotAcceptable", "missing", "negotiate"]

_FORMATS = {
    JSON_TYPE: JSON_TYPE,
    "application/vnd.pypi.simple.latest+json": JSON_TYPE,
    HTML_TYPE: HTML_TYPE,
    "application/vnd.pypi.simple.latest+html": HTML_TYPE,
    TEXT_HTML: TEXT_HTML,
    "*/*": TEXT_HTML,
    "text/*": TEXT_HTML,
    "application/*": JSON_TYPE,
}


class NotAcceptable(HubError):
    status = 406
    title = "Not Acceptable"


def negotiate(accept: str | None, fmt: str | None) -> str:
    """Pick the response type by the Accept header's q-values (PEP 691); HTML by default."""
    if fmt:
        if fmt in _FORMATS:
            return _FORMATS[fmt]
        raise NotAcceptable("simple.format", _("unknown ?format={fmt!r}", fmt=fmt))
    if not accept:
        return TEXT_HTML
    best, best_q = None, -1.0
    for position, item in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in item.split(";"))
        q = 1.0
        for param in params:
            key, _sep, value = param.partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        chosen = _FORMATS.get(media.lower())
        # Among equal q-values the first listed wins (as PyPI does).
        if chosen and q > 0 and (q > best_q or (q == best_q and best is None)):
            best, best_q = chosen, q - position * 1e-6
    if best is None:
        raise NotAcceptable(
            "simple.not_acceptable",
            _(
                "none of the types in Accept: {accept!r} is served; ask for {JSON_TYPE}, "
                "{HTML_TYPE} or text/html",
                accept=accept,
                JSON_TYPE=JSON_TYPE,
                HTML_TYPE=HTML_TYPE,
            ),
        )
    return best


def missing(name: str) -> NotFound:
    """The 404 of an index page no component has; the hot path and the handler send it alike."""
    return NotFound(
        "component.missing",
        _("no component named {name!r} on this hub: check the name, or search for it", name=name),
    )
