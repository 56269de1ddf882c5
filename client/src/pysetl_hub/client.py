"""`HubClient` and `AsyncHubClient`: thin I/O shells over `core`.

Both take an optional `httpx.Client` / `httpx.AsyncClient` (or a transport) so callers can
share connection pools, add proxies or run the client against an in-process app.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self, cast

import httpx

from pysetl_hub import core
from pysetl_hub.config import Config, origin
from pysetl_hub.dists import open_dist, upload_fields
from pysetl_hub.environment import Environment
from pysetl_hub.errors import IntegrityError, NotFound, NotLoggedIn, TransportError
from pysetl_hub.resolve import Plan
from pysetl_hub.resolve import resolve as resolve_plan
from pysetl_hub_schemas import (
    Component,
    FileInfo,
    Me,
    Provenance,
    Publisher,
    PublisherList,
    Release,
    SearchResults,
    UploadResult,
)

Progress = Callable[[int], None]
CHUNK = 1 << 16


def _client_kwargs(config: Config) -> dict[str, Any]:
    # httpx drops the Authorization header when a redirect leaves the origin; the core also
    # only ever adds it for the configured hub's origin.
    return {
        "timeout": config.timeout,
        "follow_redirects": True,
        "headers": {"User-Agent": core.USER_AGENT},
    }


def _basic(token: str) -> str:
    return "Basic " + base64.b64encode(f"__token__:{token}".encode()).decode()


class _Reader:
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


def _me_call(config: Config) -> core.Call:
    if not config.token:
        raise NotLoggedIn("checking who a token belongs to", config.url)
    return core.me()


def _file_url(config: Config, file: FileInfo) -> str:
    return file.url if "://" in file.url else f"{config.url}{file.url}"


class _Unfetched(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class _Sink:
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


def _publish_request(
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
    headers = {"User-Agent": core.USER_AGENT, "Authorization": _basic(config.token)}
    return http.build_request(
        "POST",
        url,
        data=data,
        files={
            "content": (
                path.name,
                cast(IO[bytes], _Reader(f, progress)),
                "application/octet-stream",
            )
        },
        headers=headers,
    )


class HubClient:
    """Synchronous client for one hub."""

    def __init__(
        self,
        config: Config | None = None,
        *,
        http: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config or Config.load()
        self._own = http is None
        self.http = http or httpx.Client(transport=transport, **_client_kwargs(self.config))
        self._sleep = sleep

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._own:
            self.http.close()

    # -- transport with retries -------------------------------------------------------------

    def _send(self, build: Callable[[], httpx.Request], stream: bool = False) -> httpx.Response:
        attempts = self.config.retries + 1
        for attempt in range(attempts):
            request = build()
            try:
                response = self.http.send(request, stream=stream)
            except httpx.TransportError as exc:
                delay = core.retry_delay(attempt, None)
                if attempt + 1 >= attempts or delay is None:
                    raise TransportError(
                        str(request.url), str(exc) or type(exc).__name__, attempt + 1
                    ) from exc
                self._sleep(delay)
                continue
            delay = core.retry_delay(
                attempt, response.status_code, response.headers.get("retry-after")
            )
            if delay is None or attempt + 1 >= attempts:
                if stream and response.status_code >= 400:
                    response.read()
                return response
            response.close()
            self._sleep(delay)
        raise AssertionError("unreachable")

    def _call(self, call: core.Call) -> httpx.Response:
        return self._send(lambda: core.build(self.http, self.config, call))

    # -- reads ------------------------------------------------------------------------------

    def search(self, query: str, **filters: Any) -> SearchResults:
        """Search the catalog; `filters` are kind, python, pysetl, spark, license, sort,
        page and per_page, as in `GET /api/v1/search`."""
        call = core.search(query, **filters)
        return core.parse(self._call(call), SearchResults)

    def component(self, name: str) -> Component:
        return core.parse(self._call(core.component(name)), Component)

    def release(self, name: str, version: str) -> Release:
        return core.parse(self._call(core.release(name, version)), Release)

    def versions(self, name: str) -> list[str]:
        return list(self.component(name).versions)

    def me(self) -> Me:
        """The user the configured token belongs to, its component scope and expiry; raises
        Unauthorized when the hub does not accept the token, NotLoggedIn when there is none."""
        return core.parse(self._call(_me_call(self.config)), Me)

    def publishers(self, name: str) -> PublisherList:
        """The component's trusted publishers (public: installers check signatures with them)."""
        return core.parse(self._call(core.publishers(name)), PublisherList)

    def provenance(self, file: FileInfo) -> Provenance | None:
        """The PEP 740 provenance of `file`, or None when it was uploaded unsigned."""
        if not file.provenance:
            return None
        return core.parse(self._call(core.provenance(file.provenance)), Provenance)

    def resolve(
        self,
        requirement: str | Sequence[str],
        environment: Environment | None = None,
        *,
        with_deps: bool = True,
    ) -> Plan:
        """What to install for `requirement` (PEP 508) in `environment` (default: the running
        interpreter); see `pysetl_hub.resolve` for the rules."""
        wanted = [requirement] if isinstance(requirement, str) else list(requirement)
        env = environment or Environment.probe()

        def fetch(name: str) -> Component | None:
            try:
                return self.component(name)
            except NotFound:
                return None

        return resolve_plan(wanted, env, fetch, with_deps=with_deps)

    def download(self, file: FileInfo, dest: Path, progress: Progress | None = None) -> Path:
        """Stream `file` into the directory `dest`, checking sha256 as the bytes arrive."""
        url = _file_url(self.config, file)
        with _Sink(file, dest, progress) as sink:
            response = self._send(
                lambda: self.http.build_request("GET", url, headers=sink.headers(self.config, url)),
                stream=True,
            )
            try:
                core.check(response)
                for chunk in response.iter_bytes(CHUNK):
                    sink.write(chunk)
            finally:
                response.close()
            return sink.finish()

    # -- writes -----------------------------------------------------------------------------

    def publish(
        self,
        path: Path,
        *,
        attestations: str | None = None,
        progress: Progress | None = None,
    ) -> UploadResult:
        """Upload one wheel or sdist through the legacy upload API (as twine does)."""

        def build() -> httpx.Request:
            f = stack.enter_context(path.open("rb"))
            return _publish_request(self.http, self.config, path, f, attestations, progress)

        with contextlib.ExitStack() as stack:
            return core.parse(self._send(build), UploadResult)

    def yank(self, name: str, version: str, reason: str = "") -> Release:
        return core.parse(self._call(core.yank(name, version, reason)), Release)

    def unyank(self, name: str, version: str) -> Release:
        return core.parse(self._call(core.unyank(name, version)), Release)

    def add_publisher(self, name: str, publisher: Publisher) -> PublisherList:
        """Trust `publisher` to sign `name`'s releases (owners; reserves a new name)."""
        return core.parse(self._call(core.add_publisher(name, publisher)), PublisherList)

    def remove_publisher(self, name: str, publisher_id: int) -> PublisherList:
        return core.parse(self._call(core.remove_publisher(name, publisher_id)), PublisherList)

    def require_attestations(self, name: str, required: bool = True) -> PublisherList:
        """Refuse (or accept again) unsigned uploads of `name`."""
        call = core.settings(name, require_attestations=required)
        return core.parse(self._call(call), PublisherList)


class AsyncHubClient:
    """Asynchronous client for one hub; the same calls as `HubClient`."""

    def __init__(
        self,
        config: Config | None = None,
        *,
        http: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = config or Config.load()
        self._own = http is None
        self.http = http or httpx.AsyncClient(transport=transport, **_client_kwargs(self.config))

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._own:
            await self.http.aclose()

    async def _send(
        self, build: Callable[[], httpx.Request], stream: bool = False
    ) -> httpx.Response:
        attempts = self.config.retries + 1
        for attempt in range(attempts):
            request = build()
            try:
                response = await self.http.send(request, stream=stream)
            except httpx.TransportError as exc:
                delay = core.retry_delay(attempt, None)
                if attempt + 1 >= attempts or delay is None:
                    raise TransportError(
                        str(request.url), str(exc) or type(exc).__name__, attempt + 1
                    ) from exc
                await asyncio.sleep(delay)
                continue
            delay = core.retry_delay(
                attempt, response.status_code, response.headers.get("retry-after")
            )
            if delay is None or attempt + 1 >= attempts:
                if stream and response.status_code >= 400:
                    await response.aread()
                return response
            await response.aclose()
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def _call(self, call: core.Call) -> httpx.Response:
        return await self._send(lambda: core.build(self.http, self.config, call))

    async def search(self, query: str, **filters: Any) -> SearchResults:
        """Search the catalog; `filters` are kind, python, pysetl, spark, license, sort,
        page and per_page, as in `GET /api/v1/search`."""
        call = core.search(query, **filters)
        return core.parse(await self._call(call), SearchResults)

    async def component(self, name: str) -> Component:
        return core.parse(await self._call(core.component(name)), Component)

    async def release(self, name: str, version: str) -> Release:
        return core.parse(await self._call(core.release(name, version)), Release)

    async def versions(self, name: str) -> list[str]:
        return list((await self.component(name)).versions)

    async def me(self) -> Me:
        return core.parse(await self._call(_me_call(self.config)), Me)

    async def publishers(self, name: str) -> PublisherList:
        return core.parse(await self._call(core.publishers(name)), PublisherList)

    async def provenance(self, file: FileInfo) -> Provenance | None:
        if not file.provenance:
            return None
        return core.parse(await self._call(core.provenance(file.provenance)), Provenance)

    async def resolve(
        self,
        requirement: str | Sequence[str],
        environment: Environment | None = None,
        *,
        with_deps: bool = True,
    ) -> Plan:
        """As `HubClient.resolve`. The resolver is pure and synchronous: it runs again each
        time it meets a name not fetched yet, so every fetch is awaited outside it."""
        wanted = [requirement] if isinstance(requirement, str) else list(requirement)
        env = environment
        if env is None:
            env = await asyncio.to_thread(Environment.probe, None)
        known: dict[str, Component | None] = {}

        def fetch(name: str) -> Component | None:
            if name not in known:
                raise _Unfetched(name)
            return known[name]

        while True:
            try:
                return resolve_plan(wanted, env, fetch, with_deps=with_deps)
            except _Unfetched as missing:
                try:
                    known[missing.name] = await self.component(missing.name)
                except NotFound:
                    known[missing.name] = None

    async def download(self, file: FileInfo, dest: Path, progress: Progress | None = None) -> Path:
        url = _file_url(self.config, file)
        with _Sink(file, dest, progress) as sink:
            response = await self._send(
                lambda: self.http.build_request("GET", url, headers=sink.headers(self.config, url)),
                stream=True,
            )
            try:
                core.check(response)
                async for chunk in response.aiter_bytes(CHUNK):
                    sink.write(chunk)
            finally:
                await response.aclose()
            return sink.finish()

    async def publish(
        self, path: Path, *, attestations: str | None = None, progress: Progress | None = None
    ) -> UploadResult:
        with contextlib.ExitStack() as stack:

            def build() -> httpx.Request:
                f = stack.enter_context(path.open("rb"))
                return _publish_request(self.http, self.config, path, f, attestations, progress)

            return core.parse(await self._send(build), UploadResult)

    async def yank(self, name: str, version: str, reason: str = "") -> Release:
        return core.parse(await self._call(core.yank(name, version, reason)), Release)

    async def unyank(self, name: str, version: str) -> Release:
        return core.parse(await self._call(core.unyank(name, version)), Release)

    async def add_publisher(self, name: str, publisher: Publisher) -> PublisherList:
        return core.parse(await self._call(core.add_publisher(name, publisher)), PublisherList)

    async def remove_publisher(self, name: str, publisher_id: int) -> PublisherList:
        call = core.remove_publisher(name, publisher_id)
        return core.parse(await self._call(call), PublisherList)

    async def require_attestations(self, name: str, required: bool = True) -> PublisherList:
        call = core.settings(name, require_attestations=required)
        return core.parse(await self._call(call), PublisherList)


__all__ = ["AsyncHubClient", "HubClient", "origin"]
