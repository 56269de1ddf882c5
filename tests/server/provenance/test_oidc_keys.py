"""The issuer key cache: found through discovery, cached, refetched on a new kid at most once
per interval, fetched only from configured issuers over https (http only when allowed).

Real HTTP to the local issuer; only the clock is ours, so "a minute later" takes no minute.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from pysetl_hub_server.errors import ServiceUnavailable, Unauthorized
from pysetl_hub_server.provenance.oidc.keys import FetchError, IssuerKeys, fetch_jwks, usable_keys
from pysetl_hub_server.settings import Oidc
from tests.support.oidc_issuer import LocalIssuer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def issuer() -> Iterator[LocalIssuer]:
    server = LocalIssuer("github")
    yield server
    server.stop()


def keys_for(issuer: LocalIssuer, clock: Clock, interval: float = 60) -> IssuerKeys:
    return IssuerKeys(issuer.settings(refetch_interval=interval), clock=clock)


async def test_keys_are_cached(issuer: LocalIssuer) -> None:
    clock = Clock()
    keys = keys_for(issuer, clock)
    for _ in range(5):
        found = await keys.key(issuer.url, issuer.current, "RS256")
        assert found.algorithm_name == "RS256"
    assert issuer.jwks_requests == 1


async def test_unknown_kids_refetch_at_most_once_per_interval(issuer: LocalIssuer) -> None:
    clock = Clock()
    keys = keys_for(issuer, clock, interval=60)
    await keys.key(issuer.url, issuer.current, "RS256")
    # a flood of made-up key ids, all at once and one after the other: no fetch at all yet
    flood = [keys.key(issuer.url, f"made-up-{i}", "RS256") for i in range(20)]
    results = await asyncio.gather(*flood, return_exceptions=True)
    assert all(isinstance(r, Unauthorized) and r.code == "oidc.key_unknown" for r in results)
    assert issuer.jwks_requests == 1
    # the issuer rotates; within the interval the new key is not looked up...
    rotated = issuer.rotate()
    with pytest.raises(Unauthorized):
        await keys.key(issuer.url, rotated, "RS256")
    assert issuer.jwks_requests == 1
    # ... a minute later it is, once, however many ask at the same moment
    clock.now += 61
    found = await asyncio.gather(*[keys.key(issuer.url, rotated, "RS256") for _ in range(10)])
    assert {k.algorithm_name for k in found} == {"RS256"}
    assert issuer.jwks_requests == 2
    for i in range(20):
        with pytest.raises(Unauthorized):
            await keys.key(issuer.url, f"again-{i}", "RS256")
    assert issuer.jwks_requests == 2


async def test_an_old_jwks_is_fetched_again_and_kept_when_the_issuer_is_down(
    issuer: LocalIssuer,
) -> None:
    clock = Clock()
    keys = keys_for(issuer, clock)
    kid = issuer.current
    await keys.key(issuer.url, kid, "RS256")
    clock.now += 3601
    await keys.key(issuer.url, kid, "RS256")
    assert issuer.jwks_requests == 2
    issuer.stop()
    clock.now += 3601
    assert (await keys.key(issuer.url, kid, "RS256")).algorithm_name == "RS256"


async def test_an_issuer_that_cannot_be_reached_is_retryable_and_not_hammered() -> None:
    dead = LocalIssuer()
    dead.stop()
    clock = Clock()
    keys = keys_for(dead, clock, interval=30)
    with pytest.raises(ServiceUnavailable) as first:
        await keys.key(dead.url, dead.current, "RS256")
    clock.now += 10
    with pytest.raises(ServiceUnavailable) as second:
        await keys.key(dead.url, dead.current, "RS256")
    assert first.value.code == second.value.code == "oidc.issuer_unreachable"
    assert second.value.retry_after == 20


async def test_plain_http_needs_the_explicit_setting(issuer: LocalIssuer) -> None:
    keys = IssuerKeys(Oidc(issuers=issuer.settings().issuers, allow_http=False))
    with pytest.raises(ServiceUnavailable):
        await keys.key(issuer.url, issuer.current, "RS256")
    assert issuer.jwks_requests == 0
    with pytest.raises(FetchError, match="not https"):
        await fetch_jwks(issuer.url, allow_http=False)


async def test_the_discovery_document_must_name_the_issuer(issuer: LocalIssuer) -> None:
    with pytest.raises(FetchError, match="another issuer"):
        await fetch_jwks(issuer.url + "/", allow_http=True)
    assert len(await fetch_jwks(issuer.url, allow_http=True)) == 1


async def test_the_key_must_fit_the_algorithm(issuer: LocalIssuer) -> None:
    keys = keys_for(issuer, Clock())
    with pytest.raises(Unauthorized) as refused:
        await keys.key(issuer.url, issuer.current, "ES256")
    assert refused.value.code == "oidc.algorithm"
    with pytest.raises(Unauthorized) as nameless:
        await keys.key(issuer.url, None, "RS256")
    assert nameless.value.code == "oidc.key_unknown"


def test_only_rsa_and_ec_signing_keys_are_usable(issuer: LocalIssuer) -> None:
    issuer.rotate("ec")
    published = issuer.jwks()["keys"]
    hmac_key = {"kty": "oct", "kid": "hs", "k": "c2VjcmV0", "alg": "HS256"}
    encryption = {**published[0], "kid": "enc", "use": "enc"}
    nameless = {k: v for k, v in published[0].items() if k != "kid"}
    usable = usable_keys([*published, hmac_key, encryption, nameless, {"kty": "RSA", "kid": "x"}])
    assert sorted(k.algorithm_name for k in usable.values()) == ["ES256", "RS256"]
    assert set(usable) == set(issuer.published)
