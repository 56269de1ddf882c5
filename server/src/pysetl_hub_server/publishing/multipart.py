"""Streaming parser for the legacy upload form, driven segment by segment.

`multipart.PushMultipartParser` turns the ASGI body chunks into events (a part's headers as a
`MultipartSegment`, its body as bytes, then None) and enforces the structural limits: parts
per form, header line size, headers per part. This module adds what the parser cannot know:
the `content` part goes straight to a spool file while its digests are computed and the file
cap holds; every other part is a text field under its own cap. The body is never held whole,
and every error path (a full disk's included) removes the spool file before the error propagates.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import IO, Any

from multipart import (
    MultipartError,
    MultipartSegment,
    ParserError,
    ParserLimitReached,
    PushMultipartParser,
    parse_options_header,
)

from pysetl_hub_server.errors import BadRequest, PayloadTooLarge
from pysetl_hub_server.i18n.messages import _
from pysetl_hub_server.publishing.form import FILE_FIELD, UploadedFile, UploadForm
from pysetl_hub_server.settings import UploadLimits
from pysetl_hub_server.storage.sweep import claim
from pysetl_hub_server.units import human_size

MAX_HEADER_SIZE = 16 * 1024  # one part header line; twine's longest names the file
MAX_HEADER_COUNT = 8  # per part; RFC 7578 needs three at most
LARGE_FIELDS = {"description": "max_description_size", "attestations": "max_attestations_size"}


class _Spool:
    """The `content` part on its way to disk, hashed and size-checked as it arrives."""

    def __init__(self, filename: str, spool_dir: Path, cap: int) -> None:
        # Claimed (locked) until the upload is over, so a start-up sweep leaves it alone.
        fd, self.path = claim(spool_dir, suffix=".upload")
        self._out: IO[bytes] = open(fd, "wb")  # noqa: SIM115 - closed by UploadedFile / discard()
        self._filename = filename
        self._cap = cap
        self._size = 0
        self._sha256 = hashlib.sha256()
        self._blake2 = hashlib.blake2b(digest_size=32)
        self._md5 = hashlib.md5(usedforsecurity=False)

    def write(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self._cap:
            raise PayloadTooLarge(
                "upload.too_large",
                _(
                    "the file is larger than this hub's cap of {cap}: make it smaller, or ask "
                    "the operator to raise PYSETL_HUB_MAX_UPLOAD_SIZE",
                    cap=human_size(self._cap),
                ),
            )
        self._sha256.update(chunk)
        self._blake2.update(chunk)
        self._md5.update(chunk)
        self._out.write(chunk)

    def finish(self) -> UploadedFile:
        """The whole file is on disk (a full disk fails here at the latest); it stays open, and
        claimed, until `UploadedFile.discard`."""
        self._out.flush()
        return UploadedFile(
            filename=self._filename,
            path=self.path,
            size=self._size,
            sha256=self._sha256.hexdigest(),
            blake2b_256=self._blake2.hexdigest(),
            md5=self._md5.hexdigest(),
            handle=self._out,
        )

    def discard(self) -> None:
        """Remove the file even when closing it fails (a full disk fails the last flush too)."""
        self.path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self._out.close()


class _Field:
    """A text part, held in memory and never past its cap."""

    def __init__(self, name: str, cap: int) -> None:
        self.name = name
        self._cap = cap
        self._data = bytearray()

    def write(self, chunk: bytes) -> None:
        if len(self._data) + len(chunk) > self._cap:
            raise PayloadTooLarge(
                "form.field_too_large",
                _(
                    "the form field {name!r} is longer than its cap of {cap}",
                    name=self.name,
                    cap=human_size(self._cap),
                ),
            )
        self._data += chunk

    def finish(self) -> str:
        try:
            return self._data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequest(
                "form.encoding", _("the form field {name!r} is not valid UTF-8", name=self.name)
            ) from exc


class _Collector:
    """Turns the parser's events into an `UploadForm`; owns the one spool file."""

    def __init__(self, limits: UploadLimits, spool_dir: Path) -> None:
        self.form = UploadForm()
        self._limits = limits
        self._spool_dir = spool_dir
        self._spool: _Spool | None = None
        self._part: _Spool | _Field | None = None

    def feed(self, events: Iterable[Any]) -> None:
        """One chunk's events: a segment opens a part, bytes fill it, None closes it."""
        for event in events:
            if isinstance(event, MultipartSegment):
                self._part = self._open(event)
            elif event is None:
                self._close()
            else:
                assert self._part is not None, "the parser sent bytes outside a part"
                self._part.write(event)

    def _open(self, segment: Any) -> _Spool | _Field:
        name: str = segment.name or ""
        if not name:
            raise BadRequest(
                "form.part_name", _("a form part has no name in its Content-Disposition header")
            )
        if name != FILE_FIELD:
            attr = LARGE_FIELDS.get(name)
            cap: int = getattr(self._limits, attr) if attr else self._limits.max_field_size
            return _Field(name, cap)
        filename: str | None = segment.filename
        if filename is None:
            raise BadRequest("form.content", _("the `content` part must be a file with a filename"))
        if self._spool is not None:
            raise BadRequest("form.content", _("the form has more than one `content` part"))
        self._spool = _Spool(filename, self._spool_dir, self._limits.max_file_size)
        return self._spool

    def _close(self) -> None:
        part, self._part = self._part, None
        if isinstance(part, _Spool):
            self.form.file = part.finish()
        elif part is not None:
            self.form.fields.setdefault(part.name, []).append(part.finish())

    def discard(self) -> None:
        if self._spool is not None:
            self._spool.discard()


async def parse_upload(
    content_type: str | None,
    body: AsyncIterator[bytes],
    limits: UploadLimits,
    spool_dir: Path,
) -> UploadForm:
    """Parse a multipart upload; on any error the spooled file is removed."""
    parser = _parser_for(content_type, limits)
    collector = _Collector(limits, spool_dir)
    try:
        async for chunk in body:
            if chunk:  # an empty chunk would tell the parser that the body has ended
                collector.feed(parser.parse(chunk))
        _end_of_body(parser)
    except BaseException as exc:
        collector.discard()
        if isinstance(exc, MultipartError):
            raise _problem(exc, limits) from exc
        raise
    return collector.form


def _parser_for(content_type: str | None, limits: UploadLimits) -> Any:
    mime, params = parse_options_header(content_type or "")
    boundary: str = params.get("boundary", "")
    if mime != "multipart/form-data" or not boundary:
        raise BadRequest(
            "form.content_type",
            _("uploads must be multipart/form-data with a boundary, as twine sends them"),
        )
    try:
        # No max_segment_size: each part has its own cap (and error), enforced above.
        return PushMultipartParser(
            boundary,
            max_header_size=MAX_HEADER_SIZE,
            max_header_count=MAX_HEADER_COUNT,
            max_segment_count=limits.max_fields,
        )
    except MultipartError as exc:
        raise BadRequest(
            "form.content_type",
            _(
                "the multipart boundary {boundary!r} is not usable: {exc}",
                boundary=boundary,
                exc=exc,
            ),
        ) from exc


def _end_of_body(parser: Any) -> None:
    """The body is over: the form must have reached its closing boundary."""
    try:
        parser.close()
    except ParserError as exc:
        raise BadRequest(
            "form.truncated",
            _(
                "the upload body ended before the multipart form's closing boundary: it was cut"
                " short in transit; upload the file again"
            ),
        ) from exc


def _problem(exc: MultipartError, limits: UploadLimits) -> BadRequest:
    """The parser names the limit it hit only in its message; give each one its own code."""
    reason = str(exc)
    if not isinstance(exc, ParserLimitReached):
        return BadRequest(
            "form.malformed", _("the multipart body is malformed: {reason}", reason=reason)
        )
    if "segment count" in reason:
        return BadRequest(
            "form.too_many_fields",
            _("the upload form has more than {max_fields} parts", max_fields=limits.max_fields),
        )
    if "header length" in reason:
        return BadRequest(
            "form.header_too_large",
            _(
                "a form part has a header line longer than {MAX_HEADER_SIZE} bytes",
                MAX_HEADER_SIZE=MAX_HEADER_SIZE,
            ),
        )
    if "header count" in reason:
        return BadRequest(
            "form.too_many_headers",
            _(
                "a form part has more than {MAX_HEADER_COUNT} headers",
                MAX_HEADER_COUNT=MAX_HEADER_COUNT,
            ),
        )
    return BadRequest(
        "form.limit", _("the multipart body breaks a parser limit: {reason}", reason=reason)
    )
