"""Streaming parser for the legacy upload form.

The body is never held whole: the `content` part goes straight to a temp file while its
digests are computed and the size cap is enforced; every other part is capped on its own.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from python_multipart import MultipartParser
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import parse_options_header

from pysetl_hub_server.errors import BadRequest, PayloadTooLarge
from pysetl_hub_server.settings import UploadLimits

FILE_FIELD = "content"
LARGE_FIELDS = {"description": "max_description_size", "attestations": "max_attestations_size"}


@dataclass(slots=True)
class UploadedFile:
    """The `content` part, spooled to disk with its digests."""

    filename: str
    path: Path
    size: int
    sha256: str
    blake2b_256: str
    md5: str


@dataclass(slots=True)
class UploadForm:
    fields: dict[str, list[str]] = field(default_factory=dict)
    file: UploadedFile | None = None

    def get(self, name: str) -> str | None:
        values = self.fields.get(name)
        return values[0] if values else None

    def getlist(self, name: str) -> list[str]:
        return self.fields.get(name, [])


class _Collector:
    """python-multipart callbacks that build an `UploadForm` under the limits."""

    def __init__(self, limits: UploadLimits, spool_dir: Path) -> None:
        self.limits = limits
        self.spool_dir = spool_dir
        self.form = UploadForm()
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[str, bytes] = {}
        self._name = ""
        self._buffer = bytearray()
        self._cap = 0
        self._file: IO[bytes] | None = None
        self._file_path: Path | None = None
        self._file_name = ""
        self._size = 0
        self._sha256 = hashlib.sha256()
        self._blake2 = hashlib.blake2b(digest_size=32)
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._parts = 0

    def on_part_begin(self) -> None:
        self._parts += 1
        if self._parts > self.limits.max_fields:
            raise BadRequest(
                "form.too_many_fields",
                f"the upload form has more than {self.limits.max_fields} parts",
            )
        self._headers = {}
        self._buffer = bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._header_field.decode("latin-1").lower()] = bytes(self._header_value)
        self._header_field = bytearray()
        self._header_value = bytearray()

    def on_headers_finished(self) -> None:
        disposition = self._headers.get("content-disposition", b"")
        _, params = parse_options_header(disposition)
        name = params.get(b"name")
        if name is None:
            raise BadRequest("form.part_name", "a form part has no name in Content-Disposition")
        self._name = name.decode("utf-8", "replace")
        filename = params.get(b"filename")
        if self._name == FILE_FIELD:
            if filename is None:
                raise BadRequest(
                    "form.content", "the `content` part must be a file with a filename"
                )
            if self._file is not None:
                raise BadRequest("form.content", "the form has more than one `content` part")
            self._file_name = filename.decode("utf-8", "replace")
            fd, path = tempfile.mkstemp(dir=self.spool_dir, suffix=".upload")
            self._file_path = Path(path)
            self._file = open(fd, "wb")  # noqa: SIM115 - closed in on_part_end / close()
        else:
            attr = LARGE_FIELDS.get(self._name)
            self._cap = getattr(self.limits, attr) if attr else self.limits.max_field_size

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._file is not None and self._name == FILE_FIELD and self.form.file is None:
            self._size += len(chunk)
            if self._size > self.limits.max_file_size:
                raise PayloadTooLarge(
                    "upload.too_large",
                    f"the file is larger than this hub's cap of {self.limits.max_file_size} "
                    "bytes: make it smaller, or ask the operator to raise "
                    "PYSETL_HUB_MAX_UPLOAD_SIZE",
                )
            self._sha256.update(chunk)
            self._blake2.update(chunk)
            self._md5.update(chunk)
            self._file.write(chunk)
            return
        self._buffer += chunk
        if len(self._buffer) > self._cap:
            raise PayloadTooLarge(
                "form.field_too_large",
                f"the form field {self._name!r} is longer than its cap of {self._cap} bytes",
            )

    def on_part_end(self) -> None:
        if self._name == FILE_FIELD and self._file is not None and self.form.file is None:
            self._file.close()
            assert self._file_path is not None
            self.form.file = UploadedFile(
                filename=self._file_name,
                path=self._file_path,
                size=self._size,
                sha256=self._sha256.hexdigest(),
                blake2b_256=self._blake2.hexdigest(),
                md5=self._md5.hexdigest(),
            )
            return
        try:
            value = self._buffer.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequest(
                "form.encoding", f"the form field {self._name!r} is not valid UTF-8"
            ) from exc
        self.form.fields.setdefault(self._name, []).append(value)

    def close(self) -> None:
        if self._file is not None and not self._file.closed:
            self._file.close()

    def discard(self) -> None:
        self.close()
        if self._file_path is not None:
            self._file_path.unlink(missing_ok=True)


async def parse_upload(
    content_type: str | None,
    body: AsyncIterator[bytes],
    limits: UploadLimits,
    spool_dir: Path,
) -> UploadForm:
    """Parse a multipart upload; on any error the spooled file is removed."""
    mime, params = parse_options_header(content_type or "")
    boundary = params.get(b"boundary")
    if mime != b"multipart/form-data" or not boundary:
        raise BadRequest(
            "form.content_type",
            "uploads must be multipart/form-data with a boundary, as twine sends them",
        )
    collector = _Collector(limits, spool_dir)
    callbacks = {
        "on_part_begin": collector.on_part_begin,
        "on_header_field": collector.on_header_field,
        "on_header_value": collector.on_header_value,
        "on_header_end": collector.on_header_end,
        "on_headers_finished": collector.on_headers_finished,
        "on_part_data": collector.on_part_data,
        "on_part_end": collector.on_part_end,
    }
    parser = MultipartParser(boundary, callbacks, max_header_size=16 * 1024)  # type: ignore[arg-type]
    try:
        async for chunk in body:
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as exc:
        collector.discard()
        raise BadRequest("form.malformed", f"the multipart body is malformed: {exc}") from exc
    except BaseException:
        collector.discard()
        raise
    collector.close()
    return collector.form
