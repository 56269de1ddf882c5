"""Warm anonymous pages answered before the framework (web/hot.py): exactly which requests it
may answer, with which headers, and which it must leave to the app."""

from __future__ import annotations

from pysetl_hub_server.web.cache import COMPONENT, PageMemo, Rendered
from pysetl_hub_server.web.hot import WebPages, base_of

BASE = "http://hub.test"
HOST = [(b"host", b"hub.test")]


def pages_with(*entries: tuple[tuple[str, ...], str], base_url: str | None = None) -> WebPages:
    memo = PageMemo()
    for key, text in entries:
        memo.put(key, Rendered.of(text), memo.generation)
    return WebPages(memo, base_url)


def ask(
    pages: WebPages, path: str, *headers: tuple[bytes, bytes], method: str = "GET"
) -> tuple[int, dict[bytes, bytes], bytes] | None:
    answer = pages.answer(path, method, [*HOST, *headers], "http", "")
    if answer is None:
        return None
    status, finished, body = answer
    return status, dict(finished), body


def test_a_warm_component_page_in_the_visitors_language() -> None:
    pages = pages_with(
        ((COMPONENT, "csv-dedupe", BASE, "es", "page"), "<html>es</html>"),
        ((COMPONENT, "csv-dedupe", BASE, "en", "page"), "<html>en</html>"),
    )
    found = ask(pages, "/components/csv-dedupe", (b"accept-language", b"es-ES,es;q=0.9"))
    assert found is not None
    status, headers, body = found
    assert (status, body) == (200, b"<html>es</html>")
    assert headers[b"content-type"] == b"text/html; charset=utf-8"
    assert headers[b"content-language"] == b"es"
    assert headers[b"content-length"] == str(len(body)).encode()
    assert headers[b"cache-control"] == b"no-cache"
    assert headers[b"vary"] == b"Accept-Language, Cookie, HX-Request"
    assert headers[b"etag"] == Rendered.of("<html>es</html>").etag.encode()
    english = ask(pages, "/components/CSV-Dedupe")  # names are matched as the handler keys them
    assert english is not None and english[2] == b"<html>en</html>"
    chosen = ask(pages, "/components/csv-dedupe", (b"cookie", b"pysetl_hub_lang=es"))
    assert chosen is not None and chosen[2] == b"<html>es</html>"


def test_revalidation_and_head() -> None:
    pages = pages_with((("home", "en", "page"), "<html>home</html>"))
    etag = Rendered.of("<html>home</html>").etag.encode()
    not_modified = ask(pages, "/", (b"if-none-match", etag))
    assert not_modified is not None and not_modified[0] == 304 and not_modified[2] == b""
    assert b"content-length" not in not_modified[1] and not_modified[1][b"etag"] == etag
    head = ask(pages, "/", method="HEAD")
    assert head is not None and head[0] == 200 and head[2] == b""
    assert head[1][b"content-length"] == str(len(b"<html>home</html>")).encode()


def test_what_it_leaves_to_the_app() -> None:
    pages = pages_with(
        (("home", "en", "page"), "home"),
        (("home", "en", "partial"), "fragment"),
        ((COMPONENT, "a", BASE, "en", "page"), "a"),
    )
    assert ask(pages, "/", (b"cookie", b"pshub_session=pshubs_x")) is None  # signed in
    assert ask(pages, "/", (b"cookie", b"pshub_session=pshubs_x; pysetl_hub_lang=en")) is None
    # Behind a pair a strict parser gives up on, the session cookie is still seen.
    assert ask(pages, "/", (b"cookie", b'a=b c; x="; pshub_session=pshubs_x')) is None
    assert ask(pages, "/components/a/1.0") is None  # not a page the memo keeps
    assert ask(pages, "/components/") is None
    assert ask(pages, "/components/b") is None  # a miss
    assert ask(pages, "/search") is None
    assert ask(pages, "/", (b"accept-language", b"ar")) is None  # not rendered in Arabic yet
    fragment = ask(pages, "/", (b"hx-request", b"true"))
    assert fragment is not None and fragment[2] == b"fragment"
    assert ask(pages, "/", (b"hx-request", b"false")) == ask(pages, "/")
    with_cookie = ask(pages, "/", (b"cookie", b"other=1"))
    assert with_cookie is not None and with_cookie[2] == b"home"


def test_the_base_address_is_part_of_a_component_pages_key() -> None:
    key = (COMPONENT, "a", "https://hub.example.org", "en", "page")
    configured = pages_with((key, "a"), base_url="https://hub.example.org/")
    assert ask(configured, "/components/a") is not None  # whatever the Host header says
    derived = pages_with((key, "a"))
    assert ask(derived, "/components/a") is None  # Host hub.test is another address
    assert derived.answer("/components/a", "GET", [], "http", "") is None  # no Host at all
    assert base_of("https", "hub.example.org", "") == "https://hub.example.org"
    assert base_of("http", "h", "/root/") == "http://h/root"
    assert base_of("http", None, "") is None
