"""The parts of a request both clients share: headers, upload bodies, download sinks.

Plain code with no I/O loop of its own, so `HubClient` (client.py) and `AsyncHubClient`
(aclient.py) differ only in how they send.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, Self, cast

import httpx

from pysetl_hub import core
from pysetl_hub.config import Config
from pysetl_hub.dists import open_dist, upload_fields
from pysetl_hub.errors import IntegrityError, NotLoggedIn
from pysetl_hub_schemas import (
    FileInfo,
)

Progress = Callable[[int], None]
CHUNK = 1 << 16


def client_kwargs(config: Config) -> dict[str, Any]:
    # httpx drops the Authorization header when a redirect leaves the origin; the core also
    # only ever adds it for the configured hub's origin.
    return {
        "timeout": config.timeout,
        "follow_redirects": True,
        "headers": {"User-Agent": core.USER_AGENT},
    }


def basic_auth(token: str) -> str:
    return "Basic " + base64.b64encode(f"__token__:{token}".encode()).decode()


class ProgressReader:
    """A file wrapper that reports bytes read, for upload progress bars."""

    def __init__(self, f: IO[bytes], progress: Progress | None) -> None:
        self._f, self._progress = f, progress

    def read(self, n: int = -1) -> bytes:
        data = self._f.read(n)
        if self._progress and data:
            self._progress(len(data))
        return data

    def __iter__(self) -> Iterator[bytes]:
        while data := self.read(CHUNK):
            yield data


def me_call(config: Config) -> core.Call:
    if not config.token:
        raise NotLoggedIn("checking who a token belongs to", config.url)
    return core.me()


def file_url(config: Config, file: FileInfo) -> str:
    return file.url if "://" in file.url else f"{config.url}{file.url}"


class Unfetched(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class Sink:
    """Where a download goes: a `.part` file hashed as it is written; `finish` checks the
    sha256 and renames it into place, and leaving the block any other way deletes it."""

    def __init__(self, file: FileInfo, dest: Path, progress: Progress | None) -> None:
        expected = file.hashes.get("sha256")
        if not expected:
            raise IntegrityError(file.filename, "(none)", "(not checked)")
        self._file, self._expected, self._progress = file, expected, progress
        dest.mkdir(parents=True, exist_ok=True)
        self._target = dest / file.filename
        self._part = dest / f".{file.filename}.{os.getpid()}.part"
        self._hash = hashlib.sha256()
        self._out: IO[bytes] | None = None

    def __enter__(self) -> Self:
        self._out = self._part.open("wb")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._out is not None:
            self._out.close()
        with contextlib.suppress(FileNotFoundError):
            self._part.unlink()

    @staticmethod
    def headers(config: Config, url: str) -> dict[str, str]:
        return core.headers(config, False, url)

    def write(self, chunk: bytes) -> None:
        assert self._out is not None
        self._hash.update(chunk)
        self._out.write(chunk)
        if self._progress:
            self._progress(len(chunk))

    def finish(self) -> Path:
        assert self._out is not None
        self._out.close()
        actual = self._hash.hexdigest()
        if actual != self._expected:
            raise IntegrityError(self._file.filename, self._expected, actual)
        os.replace(self._part, self._target)
        return self._target


def publish_request(
    http: httpx.Client | httpx.AsyncClient,
    config: Config,
    path: Path,
    f: IO[bytes],
    attestations: str | None,
    progress: Progress | None,
) -> httpx.Request:
    if not config.token:
        raise NotLoggedIn("publishing", config.url)
    fields = upload_fields(open_dist(path))
    if attestations is not None:
        fields.append(("attestations", attestations))
    data: dict[str, list[str]] = {}
    for key, value in fields:
        data.setdefault(key, []).append(value)
    url = f"{config.url}/legacy/"
    headers = {"User-Agent": core.USER_AGENT, "Authorization": basic_auth(config.token)}
    return http.build_request(
        "POST",
        url,
        data=data,
        files={
            "content": (
                path.name,
                cast(IO[bytes], ProgressReader(f, progress)),
                "application/octet-stream",
            )
        },
        headers=headers,
    )
