"""Files at immutable, content-addressed URLs; `<file>.metadata` is the PEP 658 metadata.

With an object store and `storage_presign_seconds` > 0, a GET answers a short-lived redirect to a
presigned URL of the store, so the bytes never pass through the hub; otherwise the hub streams
them (or serves them from memory, or from its own directory).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from litestar import Request, Response, route
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import File, Redirect, Stream

from pysetl_hub_server.answers import (
    file_cache_headers,
    file_content_type,
    file_etag,
    file_headers,
)
from pysetl_hub_server.errors import NotFound
from pysetl_hub_server.finished import Finished
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.i18n.messages import _
from pysetl_hub_server.storage.blobs import BlobNotFound, blob_key


@route(
    "/files/{sha256:str}/{filename:str}",
    http_method=["GET", "HEAD"],
    tags=["index"],
    summary="Download a distribution file or its core metadata",
)
async def download(
    request: Request[Any, Any, Any],
    sha256: FromPath[str],
    filename: FromPath[str],
    hub: NamedDependency[Hub],
) -> Response[Any]:
    """Downloads are counted by the outer layer (hotpath.py), whoever answers."""
    is_metadata = filename.endswith(".metadata")
    dist_name = filename.removesuffix(".metadata") if is_metadata else filename
    stored = await hub.cache.file(sha256, dist_name)
    if stored is None or (is_metadata and stored.metadata_sha256 is None):
        raise NotFound(
            "file.missing",
            _(
                "no file {filename!r} with digest {sha256} on this hub",
                filename=filename,
                sha256=sha256,
            ),
        )
    digest = stored.metadata_sha256 if is_metadata else stored.sha256
    assert digest is not None
    if request.headers.get("if-none-match") == file_etag(digest):
        return Finished(304, file_cache_headers(digest), b"")
    key = blob_key(digest)
    size = stored.size if not is_metadata else await hub.blobs.size(key)
    if size is None:
        raise NotFound(
            "file.missing",
            _("the bytes of {filename!r} are missing from storage", filename=filename),
        )
    if request.method == "HEAD":
        return Finished(200, file_headers(digest, filename, size), b"")
    if hub.settings.storage_presign_seconds > 0:
        signed = await hub.blobs.presigned_url(key, hub.settings.storage_presign_seconds)
        if signed is not None:
            # The URL expires: nobody may keep this answer, only the file it leads to.
            return Redirect(signed, status_code=307, headers={"Cache-Control": "private, no-store"})
    answer = await hub.cache.small_file(digest, filename, size)
    if answer is not None:
        return Finished(200, answer.headers, answer.body)
    plain = {k.decode(): v.decode() for k, v in file_cache_headers(digest)}
    media = file_content_type(filename)
    path = hub.blobs.local_path(key)
    if path is not None:
        return File(
            path=path,
            filename=filename,
            media_type=media,
            headers=plain,
            content_disposition_type="attachment",
            file_info=None,
        )
    try:
        chunks = await _opened(hub.blobs.stream(key))
    except BlobNotFound as exc:
        raise NotFound(
            "file.missing",
            _("the bytes of {filename!r} are missing from storage", filename=filename),
        ) from exc
    return Stream(chunks, media_type=media, headers={**plain, "Content-Length": str(size)})


async def _opened(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The stream with its first chunk already read: a store that is down is found before the
    200 is sent, and answered 503 like any other outage instead of a cut-off body."""
    first = await anext(chunks, b"")

    async def rest() -> AsyncIterator[bytes]:
        yield first
        async for chunk in chunks:
            yield chunk

    return rest()
