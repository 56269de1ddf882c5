"""Signing keys of the trusted OIDC issuers: discovery, then JWKS, cached per issuer.

An unknown key id refetches the JWKS (issuers rotate keys), but at most once per
`Oidc.refetch_interval` per issuer, so tokens with made-up key ids cannot make the hub hammer
the issuer. Only configured issuers are ever fetched, only over https (plain http only with the
explicit test setting), without following redirects, and bodies are capped.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import msgspec

from pysetl_hub_server.errors import ServiceUnavailable, Unauthorized
from pysetl_hub_server.i18n.messages import _
from pysetl_hub_server.settings import Oidc

log = logging.getLogger("pysetl_hub_server.oidc")

ALGORITHMS = ("RS256", "ES256")
MAX_DOCUMENT = 256 * 1024  # discovery and JWKS documents are a few KiB
MAX_AGE = 3600.0  # seconds a JWKS is used before it is fetched again anyway
FETCH_TIMEOUT = 10.0

Fetch = Callable[[str], Awaitable[list[dict[str, Any]]]]


class FetchError(Exception):
    """The issuer's discovery document or JWKS could not be had, or was not as it must be."""


@dataclass(slots=True)
class _Issuer:
    keys: dict[str, jwt.PyJWK] = field(default_factory=dict)
    loaded: bool = False
    fetched: float = -math.inf  # last successful fetch
    attempted: float = -math.inf  # last fetch, successful or not
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class IssuerKeys:
    """The hub's cache of issuer keys (one per process; `Hub.oidc_keys`)."""

    def __init__(
        self,
        settings: Oidc,
        *,
        fetch: Fetch | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._fetch = fetch or (lambda issuer: fetch_jwks(issuer, allow_http=settings.allow_http))
        self._clock = clock
        self._issuers: dict[str, _Issuer] = {}

    async def key(self, issuer: str, kid: str | None, alg: str) -> jwt.PyJWK:
        """The key `kid` of `issuer` for `alg`; a 401 `oidc.key_unknown` when it has none."""
        if not isinstance(kid, str) or not kid:
            raise Unauthorized(
                "oidc.key_unknown", _("the OIDC token names no signing key (no `kid` header)")
            )
        entry = self._issuers.setdefault(issuer, _Issuer())
        async with entry.lock:
            now = self._clock()
            may_fetch = now - entry.attempted >= self._settings.refetch_interval
            if not entry.loaded or (now - entry.fetched > MAX_AGE and may_fetch):
                await self._refresh(issuer, entry, now)
                may_fetch = False
            found = entry.keys.get(kid)
            if found is None and may_fetch:
                await self._refresh(issuer, entry, now)  # a rotated key: look once more
                found = entry.keys.get(kid)
        if found is None:
            raise Unauthorized(
                "oidc.key_unknown",
                _(
                    "the OIDC token is signed with key {kid!r}, which issuer {issuer} does not "
                    "publish: request a fresh token from the CI",
                    kid=kid[:64],
                    issuer=issuer,
                ),
            )
        if found.algorithm_name != alg:
            raise Unauthorized(
                "oidc.algorithm",
                _(
                    "the OIDC token says {alg}, but its key {kid!r} is a {algorithm_name} key",
                    alg=alg,
                    kid=kid[:64],
                    algorithm_name=found.algorithm_name,
                ),
            )
        return found

    async def _refresh(self, issuer: str, entry: _Issuer, now: float) -> None:
        if not entry.loaded and now - entry.attempted < self._settings.refetch_interval:
            raise _unreachable(issuer, now - entry.attempted, self._settings.refetch_interval)
        entry.attempted = now
        try:
            jwks = await self._fetch(issuer)
        except FetchError as exc:
            log.warning("OIDC issuer %s: JWKS fetch failed: %s", issuer, exc)
            if not entry.loaded:
                raise _unreachable(issuer, 0, self._settings.refetch_interval) from exc
            return  # keep the keys we have; they were good an hour ago
        entry.keys = usable_keys(jwks)
        entry.loaded = True
        entry.fetched = now


def _unreachable(issuer: str, waited: float, interval: float) -> ServiceUnavailable:
    return ServiceUnavailable(
        "oidc.issuer_unreachable",
        _(
            "the signing keys of OIDC issuer {issuer} could not be fetched: try again shortly",
            issuer=issuer,
        ),
        retry_after=max(1, math.ceil(interval - waited)),
    )


def usable_keys(jwks: list[dict[str, Any]]) -> dict[str, jwt.PyJWK]:
    """Signing keys by id: RS256 and ES256 only (an HMAC or unknown key is skipped)."""
    keys: dict[str, jwt.PyJWK] = {}
    for jwk in jwks:
        if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str):
            continue
        if jwk.get("use", "sig") != "sig" or jwk.get("kty") not in ("RSA", "EC"):
            continue
        try:
            parsed = jwt.PyJWK(jwk)
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
            continue
        if parsed.algorithm_name in ALGORITHMS:
            keys[jwk["kid"]] = parsed
    return keys


def _checked_url(url: object, *, allow_http: bool, what: str) -> str:
    if not isinstance(url, str):
        raise FetchError(f"{what} is not a URL")
    scheme = httpx.URL(url).scheme
    if scheme != "https" and not (scheme == "http" and allow_http):
        raise FetchError(f"{what} {url!r} is not https")
    return url


async def _get_json(http: httpx.AsyncClient, url: str) -> Any:
    async with http.stream("GET", url, headers={"Accept": "application/json"}) as response:
        if response.status_code != 200:
            raise FetchError(f"GET {url}: HTTP {response.status_code}")
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > MAX_DOCUMENT:
                raise FetchError(f"GET {url}: more than {MAX_DOCUMENT} bytes")
    try:
        return msgspec.json.decode(bytes(body))
    except msgspec.DecodeError as exc:
        raise FetchError(f"GET {url}: not JSON") from exc


async def fetch_jwks(issuer: str, *, allow_http: bool) -> list[dict[str, Any]]:
    """The issuer's keys, found through its discovery document (OpenID Connect Discovery)."""
    base = _checked_url(issuer, allow_http=allow_http, what="issuer")
    try:
        async with httpx.AsyncClient(timeout=FETCH_TIMEOUT, follow_redirects=False) as http:
            doc = await _get_json(http, f"{base.rstrip('/')}/.well-known/openid-configuration")
            if not isinstance(doc, dict) or doc.get("issuer") != issuer:
                raise FetchError("the discovery document names another issuer")
            jwks_uri = _checked_url(doc.get("jwks_uri"), allow_http=allow_http, what="jwks_uri")
            jwks = await _get_json(http, jwks_uri)
    except httpx.HTTPError as exc:
        raise FetchError(f"{type(exc).__name__}: {exc}") from exc
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(keys, list):
        raise FetchError("the JWKS has no `keys` list")
    return keys
