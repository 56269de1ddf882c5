"""Anonymous pages answered from the page memo before the framework runs.

The same reasoning as the index pages' hot path (hotpath.py): a warm component page or home
page is finished bytes; routing, dependency injection and a response object cost more than
the page itself. Only what the handlers would send byte for byte is answered here: a GET or
HEAD of `/` or `/components/<name>`, without a query string, from a visitor with no session
cookie, whose page is in the memo. Everything else goes on to the app."""

from __future__ import annotations

from pysetl_hub_server.accounts.sessions import COOKIE as SESSION_COOKIE
from pysetl_hub_server.answers import Headers
from pysetl_hub_server.i18n.negotiate import COOKIE as LANGUAGE_COOKIE
from pysetl_hub_server.i18n.negotiate import choose
from pysetl_hub_server.web.cache import COMPONENT, Key, PageMemo, anonymous_headers

Answered = tuple[int, Headers, bytes]
CONTENT_TYPE = (b"content-type", b"text/html; charset=utf-8")


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _cookies(raw: str | None) -> dict[str, str]:
    """Every `name=value` pair, leniently: a pair a strict parser would stop at must not hide
    a session cookie after it (that visitor's page is the app's to render)."""
    found: dict[str, str] = {}
    for pair in (raw or "").split(";"):
        name, _, value = pair.strip().partition("=")
        found.setdefault(name.strip(), value.strip().strip('"'))
    return found


def base_of(scheme: str, host: str | None, root_path: str) -> str | None:
    """The hub's address as `request.base_url` spells it (without the final slash)."""
    return None if not host else f"{scheme}://{host}{root_path}".rstrip("/")


class WebPages:
    def __init__(self, memo: PageMemo, base_url: str | None) -> None:
        self._memo = memo
        self._base_url = base_url.rstrip("/") if base_url else None

    def _key(self, path: str, scope_base: str | None) -> tuple[str, ...] | None:
        if path == "/":
            return ("home",)
        if path.startswith("/components/"):
            name = path[len("/components/") :]
            base = self._base_url or scope_base
            if not name or "/" in name or base is None:
                return None
            return (COMPONENT, name.lower(), base)
        return None

    def answer(
        self,
        path: str,
        method: str,
        headers: list[tuple[bytes, bytes]],
        scheme: str,
        root_path: str,
    ) -> Answered | None:
        parts = self._key(path, base_of(scheme, _header(headers, b"host"), root_path))
        if parts is None:
            return None
        cookies = _cookies(_header(headers, b"cookie"))
        if SESSION_COOKIE in cookies:
            return None  # a signed-in visitor's page is theirs, rendered by the app
        language = choose(cookies.get(LANGUAGE_COOKIE), _header(headers, b"accept-language"))
        partial = "partial" if _header(headers, b"hx-request") == "true" else "page"
        key: Key = (*parts, language, partial)
        page = self._memo.get(key, count_miss=False)
        if page is None:
            return None
        finished = tuple(
            (k.lower().encode(), v.encode())
            for k, v in anonymous_headers(language, page.etag).items()
        )
        if _header(headers, b"if-none-match") == page.etag:
            return 304, finished, b""
        length = (b"content-length", str(len(page.body)).encode())
        return 200, (CONTENT_TYPE, length, *finished), b"" if method == "HEAD" else page.body
