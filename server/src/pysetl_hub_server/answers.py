"""Finished answers: status, headers and body of an index page or a file, built once.

Index pages and file downloads are derived data answered many times over. Their cache headers
(ETag, Vary, Cache-Control, immutable file URLs) are written here and nowhere else: a page is
turned into its finished answers where it is rendered, and both the hot path (`hotpath.py`)
and the framework handlers send those very bytes. A leaf: it imports nothing of the hub's.
"""

from __future__ import annotations

import ctypes
import gzip
import hashlib
import sys
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")

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


def _untrack() -> ctypes._NamedFuncPointer | None:
    if sys.implementation.name != "cpython":
        return None
    untrack = ctypes.pythonapi.PyObject_GC_UnTrack
    untrack.argtypes = [ctypes.py_object]
    untrack.restype = None
    return untrack


_UNTRACK = _untrack()


def untracked(obj: T) -> T:
    """`obj`, out of the cyclic collector's sight, as CPython does itself for tuples and dicts
    of atoms: answers are immutable and hold only bytes, strings and tuples of them (a page,
    dicts of answers), so they can never be part of a cycle, and their reference counts still
    free them. The caches keep tens of thousands; while tracked, every full collection walked
    them all, and at 100k components those walks held the event loop 40-90 ms each, time after
    time as a cold start filled the cache (a p99 of 80-100 ms once the cache was full)."""
    if _UNTRACK is not None:
        _UNTRACK(obj)
    return obj


def _answer(etag: str, cache: Headers, content_type: bytes, body: bytes) -> Answer:
    sized = (
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
    )
    return untracked(Answer(etag, cache + sized, cache, body))


def body_etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


# What one Answer holds beyond its body (the object, its ETag, the header tuples of its 200
# and 304 and the pairs in them), as tracemalloc measures it: caches budget what their entries
# take, not only the bodies (tests/server/simple/test_lru.py holds the estimate to the measure).
ANSWER_OVERHEAD = 1200

# Pages at least this big are also kept gzip-compressed (the project list at 100k components is
# megabytes of HTML); smaller ones are not worth a second copy.
COMPRESS_OVER = 8 * 1024


@dataclass(frozen=True, slots=True)
class RenderedPage:
    """An index page (PEP 503 HTML and PEP 691 JSON) with its answer for each media type, and
    for big pages the same answers gzip-compressed (`Content-Encoding` negotiation)."""

    serial: int
    answers: dict[str, Answer]
    gzipped: dict[str, Answer] | None = None
    size: int = field(default=0, compare=False)  # bytes held, for the cache's budget

    def answer(self, media: str, gzipped: bool = False) -> Answer:
        if gzipped and self.gzipped is not None:
            return self.gzipped[media]
        return self.answers[media]


def rendered_page(
    serial: int, html: bytes, json: bytes, compress_over: int = COMPRESS_OVER
) -> RenderedPage:
    """Build the finished answers of a page: the one place index cache headers are written."""
    compress = max(len(html), len(json)) >= compress_over
    vary = b"Accept, Accept-Encoding" if compress else b"Accept"
    answers, gzipped = {}, {}
    json_etag, html_etag = body_etag(json), body_etag(html)  # the two HTML types share one
    if compress:
        json_gz, html_gz = _gzip(json), _gzip(html)
        json_gz_etag, html_gz_etag = body_etag(json_gz), body_etag(html_gz)
    for media, body, etag, zipped, zipped_etag in (
        (JSON_TYPE, json, json_etag, *((json_gz, json_gz_etag) if compress else (b"", ""))),
        (HTML_TYPE, html, html_etag, *((html_gz, html_gz_etag) if compress else (b"", ""))),
        (TEXT_HTML, html, html_etag, *((html_gz, html_gz_etag) if compress else (b"", ""))),
    ):
        common = (
            (b"vary", vary),
            (b"x-pypi-last-serial", str(serial).encode()),
            (b"cache-control", INDEX_CACHE),
            NOSNIFF,
        )
        answers[media] = _answer(
            etag, ((b"etag", etag.encode()), *common), CONTENT_TYPES[media], body
        )
        if compress:
            cache = ((b"etag", zipped_etag.encode()), (b"content-encoding", b"gzip"), *common)
            gzipped[media] = _answer(zipped_etag, cache, CONTENT_TYPES[media], zipped)
    size = len(html) + len(json) + (len(html_gz) + len(json_gz) if compress else 0)
    untracked(answers)
    untracked(gzipped)
    return untracked(RenderedPage(serial, answers, gzipped if compress else None, size))


def _gzip(body: bytes) -> bytes:
    # mtime=0: the same page compresses to the same bytes (and ETag) on every replica.
    return gzip.compress(body, compresslevel=6, mtime=0)


def _q(value: str) -> float:
    try:
        return max(0.0, min(1.0, float(value)))
    except ValueError:
        return 0.0


def wants_gzip(accept_encoding: str | None) -> bool:
    """Whether `Accept-Encoding` (RFC 9110 12.5.3) prefers gzip to identity: gzip (or `*`)
    with a q-value above 0 and at least identity's (identity is acceptable unless refused)."""
    if not accept_encoding:
        return False
    q: dict[str, float] = {}
    for item in accept_encoding.split(","):
        coding, *params = (p.strip() for p in item.split(";"))
        weight = 1.0
        for param in params:
            key, _sep, value = param.partition("=")
            if key.strip().lower() == "q":
                weight = _q(value.strip())
        if coding:
            q[coding.lower()] = weight
    star = q.get("*")
    gz = q.get("gzip", q.get("x-gzip", star if star is not None else 0.0))
    identity = q.get("identity", star if star is not None else 1.0)
    return gz > 0 and gz >= identity


def json_answer(body: bytes) -> Answer:
    """A JSON API document (a component, a release) rendered once per change: its ETag lets a
    client revalidate for nothing."""
    etag = body_etag(body)
    cache = ((b"etag", etag.encode()), (b"cache-control", b"no-cache"), NOSNIFF)
    return _answer(etag, cache, b"application/json", body)


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
    return untracked(Answer(file_etag(digest), headers, file_cache_headers(digest), data))
