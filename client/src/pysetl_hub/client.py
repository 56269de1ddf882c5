"""`HubClient`: the synchronous client, a thin I/O shell over `core` and `transfer`.

It takes an optional `httpx.Client` (or a transport) so callers can share connection pools,
add proxies or run the client against an in-process app. `AsyncHubClient` (aclient.py) has
the same methods as coroutines and is importable from here too.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx

from pysetl_hub import core
from pysetl_hub.config import Config, origin
from pysetl_hub.environment import Environment
from pysetl_hub.errors import APIError, NotFound, TransportError
from pysetl_hub.governance import GovernanceMethods
from pysetl_hub.resolve import Plan
from pysetl_hub.resolve import resolve as resolve_plan
from pysetl_hub.transfer import (
    CHUNK,
    Progress,
    Sink,
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
from pysetl_hub_schemas.osv import AuditFinding, Osv, OsvBatchResponse, OsvQuery, OsvVulns


class HubClient(GovernanceMethods):
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
        self.http = http or httpx.Client(transport=transport, **client_kwargs(self.config))
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
        return core.parse(self._call(me_call(self.config)), Me)

    def events(
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
        return core.parse(self._call(call), AuditEventPage)

    def downloads(self, name: str, days: int = 30) -> DownloadStats:
        """Daily downloads over `days` days, 30-day and all-time totals, and per version."""
        return core.parse(self._call(core.downloads(name, days)), DownloadStats)

    def flags(
        self, name: str | None = None, *, before: int | None = None, per_page: int = 50
    ) -> FlagPage:
        """Anomaly flags, newest first: `name`'s (its owners may read them), or every flag
        (admins) without a name; `next_before` pages on."""
        call = core.flags(name, before=before, per_page=per_page)
        return core.parse(self._call(call), FlagPage)

    def publishers(self, name: str) -> PublisherList:
        """The component's trusted publishers (public: installers check signatures with them)."""
        return core.parse(self._call(core.publishers(name)), PublisherList)

    def provenance(self, file: FileInfo) -> Provenance | None:
        """The PEP 740 provenance of `file`, or None when it was uploaded unsigned."""
        if not file.provenance:
            return None
        return core.parse(self._call(core.provenance(file.provenance)), Provenance)

    def advisories(self, name: str) -> list[Osv]:
        """The advisories (OSV records, withdrawn ones left out) of a component; none from a
        hub that has no OSV API (404/405)."""
        try:
            found = core.parse(self._call(core.osv_query(name)), OsvVulns).vulns
        except APIError as exc:
            if exc.status in (404, 405):
                return []
            raise
        return [v for v in (found or []) if v.withdrawn is None]

    def osv_batch(self, queries: list[OsvQuery]) -> OsvBatchResponse:
        return core.parse(self._call(core.osv_batch(queries)), OsvBatchResponse)

    def vulnerability(self, osv_id: str) -> Osv:
        return core.parse(self._call(core.osv_vuln(osv_id)), Osv)

    def audit(self, installed: list[tuple[str, str]]) -> list[AuditFinding]:
        """The (name, version) pairs the hub's advisories affect, with those advisories."""
        from pysetl_hub.advisories import findings

        return findings(installed, self.osv_batch, self.vulnerability)

    def resolve(
        self,
        requirement: str | Sequence[str],
        environment: Environment | None = None,
        *,
        with_deps: bool = True,
        require_safe: bool = False,
    ) -> Plan:
        """What to install for `requirement` (PEP 508) in `environment` (default: the running
        interpreter); see `pysetl_hub.resolve` for the rules. A release an advisory affects is
        passed over for one that is not; `require_safe` refuses it outright."""
        from pysetl_hub.advisories import affects

        wanted = [requirement] if isinstance(requirement, str) else list(requirement)
        env = environment or Environment.probe()
        known: dict[str, list[Osv]] = {}

        def fetch(name: str) -> Component | None:
            try:
                return self.component(name)
            except NotFound:
                return None

        def affected(name: str, version: str) -> list[str]:
            if name not in known:
                known[name] = self.advisories(name)
            return [a.id for a in known[name] if affects(a, name, version)]

        return resolve_plan(
            wanted, env, fetch, with_deps=with_deps, affected=affected, require_safe=require_safe
        )

    def download(self, file: FileInfo, dest: Path, progress: Progress | None = None) -> Path:
        """Stream `file` into the directory `dest`, checking sha256 as the bytes arrive."""
        url = file_url(self.config, file)
        with Sink(file, dest, progress) as sink:
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
            return publish_request(self.http, self.config, path, f, attestations, progress)

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

    def oidc_audience(self) -> str:
        """The audience to request a CI OIDC token for, before `mint_token`."""
        return core.parse(self._call(core.oidc_audience()), OidcAudience).audience

    def mint_token(self, oidc_token: str) -> MintedToken:
        """Exchange a CI OIDC token for a 15-minute upload token (trusted publishing)."""
        return core.parse(self._call(core.mint_token(oidc_token)), MintedToken)

    # -- sign-in and tokens -----------------------------------------------------------------

    def sign_in(self, username: str, password: str, otp: str | None = None) -> SignedIn:
        """Open a 12-hour session; Unauthorized with code `auth.otp_required` asks for `otp`
        (a TOTP code or a recovery code). Use the session as the token of a second client."""
        return core.parse(self._call(core.sign_in(username, password, otp)), SignedIn)

    def sign_out(self) -> None:
        """End the session that is this client's token."""
        core.check(self._call(core.sign_out()))

    def create_token(
        self,
        name: str,
        *,
        components: list[str] | None = None,
        actions: list[TokenAction] | None = None,
        expires_days: int | None = None,
        never_expires: bool = False,
        description: str = "",
    ) -> TokenCreated:
        """A new API token of the signed-in user; its secret is in the answer only. A token
        may only create a narrower one (403 `token.wider`)."""
        call = core.create_token(
            name,
            components=components,
            actions=actions,
            expires_days=expires_days,
            never_expires=never_expires,
            description=description,
        )
        return core.parse(self._call(call), TokenCreated)

    def tokens(self) -> TokenList:
        """The user's tokens (never their secrets), newest first."""
        return core.parse(self._call(core.tokens()), TokenList)

    def revoke_token(self, token_id: str) -> TokenInfo:
        return core.parse(self._call(core.revoke_token(token_id)), TokenInfo)


from pysetl_hub.aclient import AsyncHubClient  # noqa: E402  (re-exported: one import for both)

__all__ = ["AsyncHubClient", "HubClient", "origin"]
