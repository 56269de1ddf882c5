"""Talking to the origin: its feed key, signed feed pages, files and provenance.

Nothing the origin sends is trusted before it is checked: a page's bytes against the pinned
key (before they are parsed), a file's bytes against the sha256 the signed page named (before
they are stored). Every failure is an `OriginError` with a code the status page shows.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec

from pysetl_hub_schemas.feed import (
    FEED_KEY_PATH,
    KEY_ID_HEADER,
    SIGNATURE_HEADER,
    ChangePage,
    FeedFile,
    FeedKey,
)
from pysetl_hub_server.feed.signing import verify_page
from pysetl_hub_server.publishing.form import UploadedFile

PAGE_LIMIT = 200
CHUNK = 1 << 16
_SHA256 = re.compile(r"[0-9a-f]{64}")


class OriginError(Exception):
    """The origin is away, or said something that does not verify."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def key_from_text(text: str) -> FeedKey:
    """A pinned key given by the operator: the well-known JSON document, or the base64 of the
    raw 32-byte public key (the document's `public_key`)."""
    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    text = text.strip()
    if text.startswith("{"):
        try:
            return msgspec.json.decode(text, type=FeedKey)
        except msgspec.ValidationError as exc:
            raise OriginError("mirror.key", f"the feed key document is not valid: {exc}") from exc
    try:
        raw = base64.b64decode(text, validate=True)
        Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise OriginError(
            "mirror.key",
            "the feed key is neither the origin's /.well-known/pysetl-hub/feed-key JSON nor the "
            "base64 of a raw 32-byte Ed25519 public key",
        ) from exc
    key_id = hashlib.sha256(raw).hexdigest()[:32]
    return FeedKey(key_id=key_id, algorithm="ed25519", public_key=text, public_key_pem="")


@dataclass(slots=True)
class Origin:
    base: str
    client: httpx.AsyncClient

    @classmethod
    def open(cls, base: str, timeout: float = 30.0) -> Origin:
        base = base.rstrip("/")
        return cls(base, httpx.AsyncClient(base_url=base, timeout=timeout))

    async def close(self) -> None:
        await self.client.aclose()

    async def get(self, url: str, **params: Any) -> httpx.Response:
        try:
            response = await self.client.get(url, params=params or None)
        except httpx.HTTPError as exc:
            raise OriginError("mirror.origin_unreachable", f"{self.base}{url}: {exc!r}") from exc
        if response.status_code != 200:
            raise OriginError(
                "mirror.origin_status",
                f"{self.base}{url} answered {response.status_code}: {response.text[:200]}",
            )
        return response

    async def feed_key(self) -> FeedKey:
        response = await self.get(FEED_KEY_PATH)
        try:
            return msgspec.json.decode(response.content, type=FeedKey)
        except msgspec.ValidationError as exc:
            raise OriginError("mirror.key", f"the origin's feed key is not valid: {exc}") from exc

    async def page(self, key: FeedKey, since: int) -> ChangePage:
        """The page after `since`, verified with the pinned `key` before it is parsed."""
        response = await self.get("/api/v1/changes", since=since, limit=PAGE_LIMIT)
        body = response.content
        key_id = response.headers.get(KEY_ID_HEADER, "")
        signature = response.headers.get(SIGNATURE_HEADER, "")
        if key_id != key.key_id:
            raise OriginError(
                "mirror.key_changed",
                f"the feed page after serial {since} is signed by key {key_id!r}, not the pinned "
                f"{key.key_id!r}: refused. If the origin's operator rotated the key, restart "
                "the mirror with --accept-key-change",
            )
        if not signature or not verify_page(key, body, signature):
            raise OriginError(
                "mirror.bad_signature",
                f"the feed page after serial {since} does not verify with the pinned key "
                f"{key.key_id!r}: refused (nothing applied); it is fetched again later",
            )
        try:
            return msgspec.json.decode(body, type=ChangePage)
        except msgspec.ValidationError as exc:
            raise OriginError("mirror.page", f"a signed page is not a ChangePage: {exc}") from exc

    def _path(self, url: str, what: str) -> str:
        """`url` when it is a path on the origin. A signed entry is the origin's word, not a
        licence to send the mirror elsewhere: an absolute or scheme-relative URL would have it
        fetch from any host it can reach (a cloud metadata address, a service on loopback)."""
        if not url.startswith("/") or url.startswith("//") or "\\" in url:
            raise OriginError(
                "mirror.entry",
                f"the origin's feed names {what} at {url[:200]!r}, which is not a path on "
                f"{self.base}: refused (only the origin's own paths are fetched)",
            )
        return url

    async def download(self, file: FeedFile, spool: Path, max_size: int) -> UploadedFile:
        """The file, spooled and checked against the sha256 of the signed feed entry; a file
        whose bytes differ is deleted and refused. The entry is checked first (its sha256 names
        the spool file; its size, or the hub's upload cap, bounds what is read)."""
        if not _SHA256.fullmatch(file.sha256):
            raise OriginError(
                "mirror.entry",
                f"{file.filename[:200]!r}: the origin's feed gives sha256 {file.sha256[:80]!r}, "
                "not 64 lower-case hex digits: refused",
            )
        url = self._path(file.url, file.filename[:200])
        if file.size is not None and file.size > max_size:
            raise OriginError(
                "mirror.too_large",
                f"{file.filename[:200]}: the origin's feed says {file.size} bytes, over this "
                f"hub's upload cap of {max_size}: refused (raise PYSETL_HUB_MAX_UPLOAD_SIZE)",
            )
        limit = file.size if file.size is not None else max_size
        path = spool / f"mirror-{os.getpid()}-{file.sha256[:32]}.part"
        sha, blake = hashlib.sha256(), hashlib.blake2b(digest_size=32)
        md5, size = hashlib.md5(usedforsecurity=False), 0
        try:
            async with self.client.stream("GET", url) as response:
                if response.status_code != 200:
                    raise OriginError(
                        "mirror.download",
                        f"{self.base}{file.url} answered {response.status_code}",
                    )
                with path.open("wb") as out:
                    async for chunk in response.aiter_bytes(CHUNK):
                        if size + len(chunk) > limit:
                            raise OriginError(
                                "mirror.too_large",
                                f"{file.filename}: the origin sent more than the {limit} "
                                "bytes its feed (or this hub's upload cap) allows: refused",
                            )
                        out.write(chunk)
                        sha.update(chunk)
                        blake.update(chunk)
                        md5.update(chunk)
                        size += len(chunk)
        except httpx.HTTPError as exc:
            path.unlink(missing_ok=True)
            raise OriginError("mirror.download", f"{self.base}{file.url}: {exc!r}") from exc
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        if sha.hexdigest() != file.sha256:
            path.unlink(missing_ok=True)
            raise OriginError(
                "mirror.sha256_mismatch",
                f"{file.filename}: the origin sent bytes with sha256 {sha.hexdigest()}, but its "
                f"signed feed says {file.sha256}: refused and not stored (tampered or corrupt "
                "on the origin); retried later",
            )
        return UploadedFile(
            filename=file.filename,
            path=path,
            size=size,
            sha256=file.sha256,
            blake2b_256=blake.hexdigest(),
            md5=md5.hexdigest(),
        )

    async def attestations(self, provenance_url: str) -> list[dict[str, Any]]:
        """The PEP 740 attestations inside the origin's provenance object of a file."""
        response = await self.get(self._path(provenance_url, "a provenance"))
        try:
            provenance = msgspec.json.decode(response.content)
            found = [
                a for bundle in provenance["attestation_bundles"] for a in bundle["attestations"]
            ]
        except (msgspec.DecodeError, KeyError, TypeError) as exc:
            raise OriginError(
                "mirror.provenance", f"{self.base}{provenance_url} is not a PEP 740 provenance"
            ) from exc
        if not all(isinstance(a, dict) for a in found):
            raise OriginError("mirror.provenance", f"{self.base}{provenance_url}: bad bundle")
        return found
