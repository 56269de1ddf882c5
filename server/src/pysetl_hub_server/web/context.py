"""Who reads a page and in which language, and how a page becomes a response.

A visitor with no session cookie is anonymous: their pages come from the page memo and carry
an ETag. A signed-in visitor's pages are rendered for them and never stored by anyone.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from litestar import Request, Response
from litestar.datastructures import State
from litestar.di import NamedDependency

from pysetl_hub_server.accounts.permissions import Identity
from pysetl_hub_server.accounts.sessions import COOKIE, csrf_token, session_identity
from pysetl_hub_server.deps import client_ip
from pysetl_hub_server.errors import Forbidden, Unauthorized
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.i18n.catalogs import direction
from pysetl_hub_server.i18n.messages import _
from pysetl_hub_server.i18n.negotiate import COOKIE as LANGUAGE_COOKIE
from pysetl_hub_server.i18n.negotiate import choose
from pysetl_hub_server.web.cache import Key, PageMemo, Rendered, anonymous_headers
from pysetl_hub_server.web.templating import render

HTML = "text/html"
CSRF_FIELD = "csrf_token"


@dataclass(slots=True)
class Visitor:
    """The request as a page sees it."""

    language: str
    path: str
    query: str
    identity: Identity | None = None
    csrf: str | None = None
    if_none_match: str | None = None
    partial: bool = False  # an htmx request: the fragment, not the whole page
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def user(self) -> str | None:
        return self.identity.username if self.identity else None

    def context(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "is_admin": bool(self.identity and self.identity.is_admin),
            "csrf": self.csrf,
            "csrf_field": CSRF_FIELD,
            "path": self.path,
            "here": self.path + (f"?{self.query}" if self.query else ""),
        }


async def provide_visitor(hub: NamedDependency[Hub], request: Request[Any, Any, Any]) -> Visitor:
    """Takes `hub` as a dependency (not from the state) so that Litestar resolves a page's
    dependencies one after the other: two in one batch cost an anyio task group per request."""
    language = language_of(request)
    visitor = Visitor(
        language=language,
        path=request.url.path,
        query=request.url.query or "",
        if_none_match=request.headers.get("if-none-match"),
        partial=request.headers.get("hx-request") == "true",
    )
    secret = request.cookies.get(COOKIE)
    if secret:
        try:
            async with hub.sessions() as session:
                visitor.identity = await session_identity(
                    session,
                    secret,
                    ip=client_ip(request),
                    user_agent=request.headers.get("user-agent"),
                )
            visitor.csrf = csrf_token(secret)
        except Unauthorized:
            visitor.identity = None  # an ended session reads the public pages anonymously
    return visitor


def language_of(request: Request[Any, Any, Any]) -> str:
    return choose(request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language"))


def bare_page(request: Request[Any, Any, Any], template: str, **context: Any) -> tuple[str, str]:
    """(language, HTML) of a page rendered outside the web router (error pages, the API
    reference): the reader's language, and the shell as an anonymous visitor sees it."""
    language = language_of(request)
    visitor = Visitor(language=language, path=request.url.path, query="")
    return language, render(language, template, **visitor.context(), **context)


def check_form(visitor: Visitor, form: dict[str, Any]) -> Identity:
    """The identity behind a signed-in form post, once its CSRF token matches the session."""
    if visitor.identity is None or visitor.csrf is None:
        raise Unauthorized("auth.signin_required", _("sign in to do this"))
    sent = str(form.get(CSRF_FIELD) or "")
    if not hmac.compare_digest(sent.encode(), visitor.csrf.encode()):
        raise Forbidden(
            "auth.csrf",
            _(
                "this form is out of date or did not come from this hub's pages: reload the page "
                "and send it again"
            ),
        )
    return visitor.identity


def local_path(target: str | None, default: str = "/") -> str:
    """`target` when it is a path on this hub; never another origin (an open redirect)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in target):  # not a URL
        return default
    return target


def _headers(visitor: Visitor, etag: str | None) -> dict[str, str]:
    if visitor.identity is None:
        return anonymous_headers(visitor.language, etag)
    return {
        "Content-Language": visitor.language,
        "Vary": "Accept-Language, Cookie, HX-Request",
        "Cache-Control": "private, no-store",
    }


def respond(visitor: Visitor, page: Rendered | str, status: int = 200) -> Response[bytes]:
    rendered = page if isinstance(page, Rendered) else Rendered.of(page)
    etag = rendered.etag if status == 200 else None
    if etag and visitor.identity is None and visitor.if_none_match == etag:
        return Response(b"", status_code=304, headers=_headers(visitor, etag))
    return Response(
        rendered.body, status_code=status, media_type=HTML, headers=_headers(visitor, etag)
    )


def page_html(visitor: Visitor, template: str, **context: Any) -> str:
    return render(visitor.language, template, **visitor.context(), **context)


def memo_key(visitor: Visitor, *parts: str) -> Key | None:
    """The memo key of an anonymous page; None (not stored) for a signed-in visitor."""
    if visitor.identity is not None:
        return None
    return (*parts, visitor.language, "partial" if visitor.partial else "page")


def memo_of(state: State) -> PageMemo:
    memo: PageMemo = state.web_memo
    return memo


def text_direction(visitor: Visitor) -> str:
    return direction(visitor.language)
