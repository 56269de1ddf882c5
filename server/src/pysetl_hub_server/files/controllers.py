"""Files at immutable, content-addressed URLs; `<file>.metadata` is the PEP 658 metadata."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, route
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import File, Stream

from pysetl_hub_server.errors import NotFound
from pysetl_hub_server.runtime import Hub
from pysetl_hub_server.storage.blobs import blob_key

IMMUTABLE = "public, max-age=31536000, immutable"


def content_type(filename: FromPath[str]) -> str:
    if filename.endswith(".metadata"):
        return "text/plain; charset=utf-8"
    if filename.endswith(".tar.gz"):
        return "application/gzip"
    return "application/octet-stream"  # wheels, as PyPI serves them


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
    is_metadata = filename.endswith(".metadata")
    dist_name = filename.removesuffix(".metadata") if is_metadata else filename
    stored = await hub.cache.file(sha256, dist_name)
    if stored is None or (is_metadata and stored.metadata_sha256 is None):
        raise NotFound("file.missing", f"no file {filename!r} with digest {sha256} on this hub")
    digest = stored.metadata_sha256 if is_metadata else stored.sha256
    assert digest is not None
    etag = f'"{digest}"'
    headers = {"ETag": etag, "Cache-Control": IMMUTABLE}
    if request.headers.get("if-none-match") == etag:
        return Response(content=b"", status_code=304, headers=headers)
    media = content_type(filename)
    key = blob_key(digest)
    size = stored.size if not is_metadata else await hub.blobs.size(key)
    if size is None:
        raise NotFound("file.missing", f"the bytes of {filename!r} are missing from storage")
    if request.method == "HEAD":
        headers["Content-Length"] = str(size)
        return Response(content=b"", media_type=media, headers=headers)
    if not is_metadata:
        hub.downloads.count(filename)
    data = await hub.cache.small_blob(digest, size)
    if data is not None:
        return Response(content=data, media_type=media, headers=headers)
    path = hub.blobs.local_path(key)
    if path is not None:
        return File(
            path=path,
            filename=filename,
            media_type=media,
            headers=headers,
            content_disposition_type="attachment",
            file_info=None,
        )
    return Stream(
        hub.blobs.stream(key),
        media_type=media,
        headers={**headers, "Content-Length": str(size)},
    )
