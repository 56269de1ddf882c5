"""Finished answers: gzip variants of big pages and Accept-Encoding negotiation."""

from __future__ import annotations

import gzip

import pytest

from pysetl_hub_server.answers import JSON_TYPE, TEXT_HTML, rendered_page, wants_gzip


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
