"""A release's long description as safe HTML, rendered as its `Description-Content-Type` says.

Markdown (CommonMark with tables and strikethrough) goes through markdown-it-py, reST through
readme-renderer (docutils, as PyPI does), anything else is shown as plain text. Whatever comes
out is then cleaned by nh3 with a short allow-list: no scripts, styles, event handlers, frames
or forms survive, links keep only http(s) and mailto schemes, and images become links, because
an image from another origin would be a request leaving the hub (and a tracking pixel).
"""

from __future__ import annotations

import html
import re
from email.message import Message
from typing import Final

import nh3
from markdown_it import MarkdownIt
from readme_renderer import rst

_MARKDOWN = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])

TAGS: Final = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt",
        "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "kbd", "li", "ol", "p", "pre", "s",
        "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
        "tr", "tt", "ul",
    }
)  # fmt: skip
ATTRIBUTES: Final = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start"},
    "code": {"class"},  # `language-python` from fenced blocks
}
SCHEMES: Final = frozenset({"http", "https", "mailto"})
# Dropped with their content, not just unwrapped: their text is code or styling, never prose.
DROP_CONTENT: Final = frozenset(
    {"script", "style", "iframe", "object", "embed", "template", "noscript", "form", "textarea",
     "select", "svg", "math", "title"}
)  # fmt: skip
MAX_README: Final = 512 * 1024  # characters rendered; a longer description is cut

# nh3 writes its output in one canonical form (attributes double-quoted and escaped), so an
# `<img>` in it is matched exactly; nothing here parses untrusted markup.
_IMG = re.compile(r"<img\b[^>]*>")
_SRC = re.compile(r' src="([^"]*)"')
_ALT = re.compile(r' alt="([^"]*)"')


def content_type(value: str | None) -> str:
    """`text/markdown; charset=UTF-8; variant=GFM` -> `text/markdown`."""
    if not value:
        return "text/plain"
    message = Message()
    message["content-type"] = value
    return message.get_content_type()


def _to_html(text: str, kind: str) -> str:
    if kind == "text/markdown":
        return str(_MARKDOWN.render(text))
    if kind == "text/x-rst":
        rendered = rst.render(text)
        if rendered is not None:
            return rendered
    return f"<pre>{html.escape(text)}</pre>"


def _clean(fragment: str, *, images: bool) -> str:
    attributes = {tag: set(names) for tag, names in ATTRIBUTES.items()}
    tags = set(TAGS)
    if images:
        tags.add("img")
        attributes["img"] = {"src", "alt"}
    return nh3.clean(
        fragment,
        tags=tags,
        clean_content_tags=set(DROP_CONTENT),
        attributes=attributes,
        url_schemes=set(SCHEMES),
        link_rel="nofollow noopener noreferrer ugc",
        strip_comments=True,
    )


def _image_link(match: re.Match[str]) -> str:
    tag = match.group(0)
    alt = (found.group(1) if (found := _ALT.search(tag)) else "") or "image"
    src = found.group(1) if (found := _SRC.search(tag)) else ""
    return f'<a href="{src}">[{alt}]</a>' if src else f"[{alt}]"


def render(description: str | None, description_content_type: str | None) -> str:
    """Safe HTML for a README; empty when there is none."""
    if not description or not description.strip():
        return ""
    fragment = _to_html(description[:MAX_README], content_type(description_content_type))
    with_images = _clean(fragment, images=True)
    return _clean(_IMG.sub(_image_link, with_images), images=False)
