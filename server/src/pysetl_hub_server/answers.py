"""Finished answers: status, headers and body of an index page or a file, built once.

Index pages and file downloads are derived data answered many times over. Their cache headers
(ETag, Vary, Cache-Control, immutable file URLs) are written here and nowhere else: a page is
turned into its finished answers where it is rendered, and both the hot path (`hotpath.py`)
and the framework handlers send those very bytes. A leaf: it imports nothing of the hub's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

# The index media types (PEP 691); `simple/media.py` negotiates between them.
JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "application/vnd.pypi.simple.v1+html"
TEXT_HTML = "text/html"

Headers = tuple[tuple[bytes, bytes], ...]
# On every response (finished answers carry it; hotpath.py adds it to the app's others), so a
# browser never guesses a type: an uploaded file or a JSON body is never run as a script.
NOSNIFF = (b"x-content-type-options", b"nosniff")
INDEX_CACHE = b"max-age=60, public"  # index pages change; a minute of staleness is fine
IMMUTABLE = b"public, max-age=31536000, immutable"  # file URLs hold the sha256
# The content type each negotiated media type is sent with (text/* carries its charset).
CONTENT_TYPES = {
    JSON_TYPE: JSON_TYPE.encode(),
    HTML_TYPE: HTML_TYPE.encode(),
    TEXT_HTML: b"text/html; charset=utf-8",
}


@dataclass(frozen=True, slots=True)
class StoredFile:
    """What the hub knows of a published file to serve it."""

    filename: str
    sha256: str
    size: int
    metadata_sha256: str | None


@dataclass(frozen=True, slots=True)
class Answer:
    """One cacheable answer and its 304: both with their final headers."""

    etag: str
    headers: Headers  # of the 200, content type and length included
    not_modified: Headers  # of the 304: the validators and cache headers only
    body: bytes

    def to(self, if_none_match: str | None, head: bool = False) -> tuple[int, Headers, bytes]:
        """The (status, headers, body) to send for a request with this If-None-Match."""
        if if_none_match == self.etag:
            return 304, self.not_modified, b""
        return 200, self.headers, b"" if head else self.body


def _answer(etag: str, cache: Headers, content_type: bytes, body: bytes) -> Answer:
    sized = (
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
    )
    return Answer(etag, cache + sized, cache, body)


def body_etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


@dataclass(frozen=True, slots=True)
class RenderedPage:
    """An index page (PEP 503 HTML and PEP 691 JSON) with its answer for each media type."""

    serial: int
    answers: dict[str, Answer]

    def answer(self, media: str) -> Answer:
        return self.answers[media]


def rendered_page(serial: int, html: bytes, json: bytes) -> RenderedPage:
    """Build the finished answers of a page: the one place index cache headers are written."""
    answers = {}
    json_etag, html_etag = body_etag(json), body_etag(html)  # the two HTML types share one
    for media, body, etag in (
        (JSON_TYPE, json, json_etag),
        (HTML_TYPE, html, html_etag),
        (TEXT_HTML, html, html_etag),
    ):
        cache = (
            (b"etag", etag.encode()),
            (b"vary", b"Accept"),
            (b"x-pypi-last-serial", str(serial).encode()),
            (b"cache-control", INDEX_CACHE),
            NOSNIFF,
        )
        answers[media] = _answer(etag, cache, CONTENT_TYPES[media], body)
    return RenderedPage(serial, answers)


def file_content_type(filename: str) -> str:
    if filename.endswith(".metadata"):
        return "text/plain; charset=utf-8"
    if filename.endswith(".tar.gz"):
        return "application/gzip"
    return "application/octet-stream"  # wheels, as PyPI serves them


def file_etag(digest: str) -> str:
    return f'"{digest}"'


def file_cache_headers(digest: str) -> Headers:
    """Headers of every answer for an immutable file URL, 304s included."""
    return ((b"etag", file_etag(digest).encode()), (b"cache-control", IMMUTABLE), NOSNIFF)


def file_headers(digest: str, filename: str, size: int) -> Headers:
    """Headers of a 200 (or HEAD) for a file of `size` bytes."""
    return (
        *file_cache_headers(digest),
        (b"content-type", file_content_type(filename).encode()),
        (b"content-length", str(size).encode()),
    )


def file_answer(digest: str, filename: str, data: bytes) -> Answer:
    """The finished answer for a file (or its PEP 658 metadata) whose bytes are in memory."""
    headers = file_headers(digest, filename, len(data))
    return Answer(file_etag(digest), headers, file_cache_headers(digest), data)
