"""`AsyncHubClient`: `HubClient` as coroutines, over the same `core` and `transfer`.

It takes an optional `httpx.AsyncClient` (or a transport).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx

from pysetl_hub import core
from pysetl_hub.config import Config
from pysetl_hub.environment import Environment
from pysetl_hub.errors import APIError, NotFound, TransportError
from pysetl_hub.resolve import Plan
from pysetl_hub.resolve import resolve as resolve_plan
from pysetl_hub.transfer import (
    CHUNK,
    Progress,
    Sink,
    Unfetched,
    client_kwargs,
    file_url,
    me_call,
    publish_request,
)
from pysetl_hub_schemas import (
    AuditEventPage,
    Component,
    DownloadStats,
    FileInfo,
    FlagPage,
    Me,
    MintedToken,
    OidcAudience,
    Provenance,
    Publisher,
    PublisherList,
    Release,
    SearchResults,
    SignedIn,
    TokenAction,
    TokenCreated,
    TokenInfo,
    TokenList,
    UploadResult,
)
from pysetl_hub_schemas.osv import Osv, OsvVulns


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
        self.http = http or httpx.AsyncClient(transport=transport, **client_kwargs(self.config))

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

    async def advisories(self, name: str) -> list[Osv]:
        """As `HubClient.advisories`."""
        try:
            found = core.parse(await self._call(core.osv_query(name)), OsvVulns).vulns
        except APIError as exc:
            if exc.status in (404, 405):
                return []
            raise
        return [v for v in (found or []) if v.withdrawn is None]

    async def release(self, name: str, version: str) -> Release:
        return core.parse(await self._call(core.release(name, version)), Release)

    async def versions(self, name: str) -> list[str]:
        return list((await self.component(name)).versions)

    async def me(self) -> Me:
        return core.parse(await self._call(me_call(self.config)), Me)

    async def events(
        self,
        name: str | None = None,
        *,
        every: bool = False,
        before: int | None = None,
        per_page: int = 50,
    ) -> AuditEventPage:
        """Audit events, newest first: `name`'s (its owners may read them), every event
        (`every`, admins), or the caller's own security events; `next_before` pages on."""
        call = core.events(name, every=every, before=before, per_page=per_page)
        return core.parse(await self._call(call), AuditEventPage)

    async def downloads(self, name: str, days: int = 30) -> DownloadStats:
        """Daily downloads over `days` days, 30-day and all-time totals, and per version."""
        return core.parse(await self._call(core.downloads(name, days)), DownloadStats)

    async def flags(
        self, name: str | None = None, *, before: int | None = None, per_page: int = 50
    ) -> FlagPage:
        """Anomaly flags, newest first: `name`'s (owners), or every flag (admins)."""
        call = core.flags(name, before=before, per_page=per_page)
        return core.parse(await self._call(call), FlagPage)

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
        require_safe: bool = False,
    ) -> Plan:
        """As `HubClient.resolve`. The resolver is pure and synchronous: it runs again each
        time it meets a name not fetched yet, so every fetch (a component and its advisories)
        is awaited outside it."""
        from pysetl_hub.advisories import affects

        wanted = [requirement] if isinstance(requirement, str) else list(requirement)
        env = environment
        if env is None:
            env = await asyncio.to_thread(Environment.probe, None)
        known: dict[str, Component | None] = {}
        advised: dict[str, list[Osv]] = {}

        def fetch(name: str) -> Component | None:
            if name not in known:
                raise Unfetched(name)
            return known[name]

        def affected(name: str, version: str) -> list[str]:
            return [a.id for a in advised.get(name, []) if affects(a, name, version)]

        while True:
            try:
                return resolve_plan(
                    wanted,
                    env,
                    fetch,
                    with_deps=with_deps,
                    affected=affected,
                    require_safe=require_safe,
                )
            except Unfetched as missing:
                try:
                    found = known[missing.name] = await self.component(missing.name)
                except NotFound:
                    known[missing.name] = None
                else:
                    advised[found.name] = await self.advisories(found.name)

    async def download(self, file: FileInfo, dest: Path, progress: Progress | None = None) -> Path:
        url = file_url(self.config, file)
        with Sink(file, dest, progress) as sink:
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
                return publish_request(self.http, self.config, path, f, attestations, progress)

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

    async def oidc_audience(self) -> str:
        return core.parse(await self._call(core.oidc_audience()), OidcAudience).audience

    async def mint_token(self, oidc_token: str) -> MintedToken:
        return core.parse(await self._call(core.mint_token(oidc_token)), MintedToken)

    async def sign_in(self, username: str, password: str, otp: str | None = None) -> SignedIn:
        return core.parse(await self._call(core.sign_in(username, password, otp)), SignedIn)

    async def sign_out(self) -> None:
        core.check(await self._call(core.sign_out()))

    async def create_token(
        self,
        name: str,
        *,
        components: list[str] | None = None,
        actions: list[TokenAction] | None = None,
        expires_days: int | None = None,
        never_expires: bool = False,
        description: str = "",
    ) -> TokenCreated:
        call = core.create_token(
            name,
            components=components,
            actions=actions,
            expires_days=expires_days,
            never_expires=never_expires,
            description=description,
        )
        return core.parse(await self._call(call), TokenCreated)

    async def tokens(self) -> TokenList:
        return core.parse(await self._call(core.tokens()), TokenList)

    async def revoke_token(self, token_id: str) -> TokenInfo:
        return core.parse(await self._call(core.revoke_token(token_id)), TokenInfo)
