"""Finished answers: gzip variants of big pages, Accept-Encoding negotiation, and their life
out of the cyclic collector's sight."""

from __future__ import annotations

import gc
import gzip
import tracemalloc

import pytest

from pysetl_hub_server.answers import (
    JSON_TYPE,
    TEXT_HTML,
    file_answer,
    json_answer,
    rendered_page,
    wants_gzip,
)


@pytest.mark.parametrize(
    ("header", "gzip_wanted"),
    [
        (None, False),
        ("", False),
        ("gzip", True),
        ("GZIP", True),
        ("x-gzip", True),
        ("gzip, deflate, br", True),
        ("deflate, br", False),
        ("gzip;q=0", False),
        ("gzip; q=0.0", False),
        ("*", True),
        ("*;q=0", False),
        ("identity;q=0, *;q=0.5", True),
        ("identity, gzip;q=0.5", False),  # identity (q=1) is preferred
        ("identity;q=0.4, gzip;q=0.5", True),
        ("gzip;q=0.5, *;q=0.8", False),  # identity falls under * (0.8), above gzip
        ("gzip;q=bogus", False),
    ],
)
def test_accept_encoding(header: str | None, gzip_wanted: bool) -> None:
    assert wants_gzip(header) is gzip_wanted


def test_big_pages_get_a_gzip_variant_with_its_own_etag() -> None:
    html = b"<html>" + b"<a>link</a>\n" * 2000 + b"</html>"
    json = b'{"files": [' + b'"x",' * 3000 + b'"y"]}'
    page = rendered_page(7, html, json)
    assert page.gzipped is not None
    for media, body in ((JSON_TYPE, json), (TEXT_HTML, html)):
        plain, zipped = page.answer(media), page.answer(media, gzipped=True)
        assert gzip.decompress(zipped.body) == body
        assert len(zipped.body) < len(body)
        assert zipped.etag != plain.etag
        zipped_headers = dict(zipped.headers)
        assert zipped_headers[b"content-encoding"] == b"gzip"
        assert zipped_headers[b"content-length"] == str(len(zipped.body)).encode()
        assert zipped_headers[b"vary"] == dict(plain.headers)[b"vary"] == b"Accept, Accept-Encoding"
        assert b"content-encoding" not in dict(plain.headers)
        assert zipped.to(zipped.etag)[0] == 304
    # Every replica compresses the same page to the same bytes (no timestamp in the header).
    assert (
        rendered_page(7, html, json).answer(TEXT_HTML, True).etag
        == page.answer(TEXT_HTML, True).etag
    )


def test_small_pages_are_not_compressed() -> None:
    page = rendered_page(1, b"<html></html>", b"{}")
    assert page.gzipped is None
    assert page.answer(TEXT_HTML, gzipped=True) is page.answer(TEXT_HTML)
    assert dict(page.answer(TEXT_HTML).headers)[b"vary"] == b"Accept"


def test_answers_and_pages_are_out_of_the_collectors_sight() -> None:
    """The caches hold tens of thousands of them: tracked, every full collection walks them
    all (at 100k components, 40-90 ms with the event loop held, again and again)."""
    big = rendered_page(3, b"<a>x</a>" * 2000, b'{"a": 1}' * 2000)
    small = rendered_page(4, b"<a>x</a>", b"{}")
    assert big.gzipped is not None and small.gzipped is None
    for page in (big, small):
        assert not gc.is_tracked(page) and not gc.is_tracked(page.answers)
        assert not any(gc.is_tracked(a) for a in page.answers.values())
    assert not any(gc.is_tracked(a) for a in big.gzipped.values())
    assert not gc.is_tracked(big.gzipped)
    assert not gc.is_tracked(file_answer("ab" * 32, "x-1.0-py3-none-any.whl", b"PK"))
    assert not gc.is_tracked(json_answer(b'{"name": "x"}'))


def test_untracked_answers_are_still_freed_when_dropped() -> None:
    """Out of the collector's sight, but not leaked: reference counts free them."""
    tracemalloc.start()
    try:
        rendered_page(0, b"<p>warm</p>" * 50, b"{}" * 50)
        before, _ = tracemalloc.get_traced_memory()
        for i in range(5000):
            rendered_page(i, b"<p>%d</p>" % i * 100, b'{"v": %d}' % i * 100)
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after - before < 64 * 1024  # 5,000 pages of ~1.6 KB each would be 8 MB
