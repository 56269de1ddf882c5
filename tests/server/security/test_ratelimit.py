"""Rate limits: the limiter itself on memory and on Redis, the limits wired into the hub (bad
tokens per IP, new names per user, uploads per token), and counters shared by replicas
through Redis."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
import redis.asyncio

from pysetl_hub_server.errors import TooManyRequests
from pysetl_hub_server.security.ratelimit import Limiter
from pysetl_hub_server.settings import Settings, SettingsError
from tests.server.security.conftest import StartHub
from tests.support.upload import problem, upload

BAD = "pshub_0123456789abcdef_" + "x" * 43  # well-formed, unknown


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_hits_past_the_limit_are_refused_with_retry_after(counters: str | None) -> None:
    limiter = Limiter(counters, limits=[("signin", "3/minute")])
    for _ in range(3):
        await limiter.hit("signin", "ip:1")
    with pytest.raises(TooManyRequests) as refused:
        await limiter.hit("signin", "ip:1")
    assert refused.value.code == "rate.signin"
    assert 1 <= refused.value.retry_after <= 60
    assert "too many sign-in attempts: the limit is 3 per 1 minute" in refused.value.detail
    await limiter.hit("signin", "ip:2")  # another key has its own count


async def test_check_does_not_count_and_clear_forgets(counters: str | None) -> None:
    limiter = Limiter(counters, limits=[("signin", "2/minute")])
    for _ in range(5):
        await limiter.check("signin", "k")
    await limiter.hit("signin", "k")
    await limiter.hit("signin", "k")
    with pytest.raises(TooManyRequests):
        await limiter.check("signin", "k")
    await limiter.clear("signin", "k")
    await limiter.check("signin", "k")


async def test_a_hit_on_several_keys_counts_none_when_one_is_full(counters: str | None) -> None:
    limiter = Limiter(counters, limits=[("signin", "1/minute")])
    await limiter.hit("signin", "user:a")
    with pytest.raises(TooManyRequests):
        await limiter.hit("signin", "ip:9", "user:a")
    await limiter.hit("signin", "ip:9")  # the refused hit did not count against ip:9


@pytest.mark.redis
async def test_two_limiters_on_one_redis_share_their_counts(redis_url: str) -> None:
    one = Limiter(redis_url, limits=[("upload", "3/hour")])
    two = Limiter(redis_url, limits=[("upload", "3/hour")])
    await one.hit("upload", "token:t")
    await two.hit("upload", "token:t")
    await one.hit("upload", "token:t")
    with pytest.raises(TooManyRequests):
        await two.hit("upload", "token:t")


async def test_retry_after_counts_from_the_oldest_event_in_the_window(
    counters: str | None,
) -> None:
    """Retry-After is when the key's oldest counted event leaves the window, not a whole
    window from now: a client that waits that long is let in."""
    limiter = Limiter(counters, limits=[("signin", "1/3 seconds")])
    await limiter.hit("signin", "ip:1")
    await asyncio.sleep(2)
    with pytest.raises(TooManyRequests) as checked:
        await limiter.check("signin", "ip:2", "ip:1")
    with pytest.raises(TooManyRequests) as refused:
        await limiter.hit("signin", "ip:2", "ip:1")
    assert checked.value.retry_after == refused.value.retry_after == 1
    await asyncio.sleep(1.1)
    await limiter.hit("signin", "ip:1")


@pytest.mark.redis
async def test_counters_in_redis_live_under_the_hub_prefix(redis_url: str) -> None:
    """A Redis shared with other applications: every key the hub writes starts with
    `pysetl-hub` (docs/operations/security.md), none of theirs is touched."""
    await Limiter(redis_url).hit("upload", "token:t")
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        keys = [key.decode() async for key in client.scan_iter()]
    finally:
        await client.aclose()
    assert keys and all(key.startswith("pysetl-hub") for key in keys), keys


@pytest.mark.redis
async def test_a_redis_url_written_for_async_storage_is_the_same_redis(redis_url: str) -> None:
    """`async+redis://...` (the limits library's spelling) counts with `redis://...`."""
    one = Limiter(redis_url, limits=[("upload", "1/hour")])
    two = Limiter("async+" + redis_url, limits=[("upload", "1/hour")])
    await one.hit("upload", "token:t")
    with pytest.raises(TooManyRequests):
        await two.hit("upload", "token:t")


async def test_two_limiters_in_memory_do_not() -> None:
    one, two = Limiter(limits=[("upload", "1/hour")]), Limiter(limits=[("upload", "1/hour")])
    await one.hit("upload", "token:t")
    await two.hit("upload", "token:t")


def test_limits_come_from_the_environment() -> None:
    env = {"PYSETL_HUB_RATE_LIMITS": "signin=10/5minutes, upload = 100/hour"}
    settings = Settings.from_env(env)
    assert settings.rate_limits == (("signin", "10/5minutes"), ("upload", "100/hour"))
    Limiter(limits=settings.rate_limits)


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("signin", "is not POLICY=LIMIT"),
        ("signin=", "is not POLICY=LIMIT"),
        ("logins=3/hour", "'logins', which is not a policy: use signin, bad_token"),
        ("signin=often", "signin='often', which is not a limit like 10/5 minutes or 100/hour"),
    ],
)
def test_a_bad_limit_fails_at_start(raw: str, says: str) -> None:
    with pytest.raises(SettingsError, match="PYSETL_HUB_RATE_LIMITS") as failed:
        Limiter(limits=Settings.from_env({"PYSETL_HUB_RATE_LIMITS": raw}).rate_limits)
    assert says in str(failed.value)


def test_bad_tokens_from_one_ip_get_429_after_the_default_limit(
    hubs: StartHub, counters: str | None
) -> None:
    """600 guesses: the first 60 (the default limit) are told the token is invalid, every one
    after is refused before the token is looked at; a missing token is not a guess."""
    hub = hubs(redis_url=counters)
    good = hub.user_with_token("alice")
    statuses: dict[int, int] = {}
    with httpx.Client(base_url=hub.url, timeout=30) as http:
        for _ in range(5):
            assert http.get("/api/v1/me").status_code == 401  # no token: not counted
        for _ in range(600):
            r = http.get("/api/v1/me", headers=bearer(BAD))
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        assert statuses == {401: 60, 429: 540}
        refused = http.get("/api/v1/me", headers=bearer(good))
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert problem(refused)["code"] == "rate.bad_token"


def test_an_upload_with_a_bad_token_counts_too(
    hubs: StartHub, example_dists: dict[str, Path]
) -> None:
    hub = hubs(rate_limits=(("bad_token", "2/minute"),))
    with httpx.Client(base_url=hub.url, timeout=30) as http:
        codes = [upload(http, BAD, example_dists["csv-dedupe:wheel"]).status_code for _ in range(3)]
    assert codes == [401, 401, 429]


@pytest.mark.redis
def test_two_hubs_on_one_redis_count_together(hubs: StartHub, redis_url: str) -> None:
    """Replicas behind one load balancer: guesses through one count on the other."""
    limits = (("bad_token", "4/minute"),)
    one = hubs("one", redis_url=redis_url, rate_limits=limits)
    two = hubs("two", redis_url=redis_url, rate_limits=limits)
    with httpx.Client(timeout=30) as http:
        for _ in range(4):
            assert http.get(f"{one.url}/api/v1/me", headers=bearer(BAD)).status_code == 401
        refused = http.get(f"{two.url}/api/v1/me", headers=bearer(BAD))
    assert refused.status_code == 429 and problem(refused)["code"] == "rate.bad_token"


def test_two_hubs_counting_in_memory_do_not(hubs: StartHub) -> None:
    limits = (("bad_token", "4/minute"),)
    one, two = hubs("one", rate_limits=limits), hubs("two", rate_limits=limits)
    with httpx.Client(timeout=30) as http:
        for _ in range(4):
            assert http.get(f"{one.url}/api/v1/me", headers=bearer(BAD)).status_code == 401
        assert http.get(f"{two.url}/api/v1/me", headers=bearer(BAD)).status_code == 401
        assert http.get(f"{one.url}/api/v1/me", headers=bearer(BAD)).status_code == 429


PUBLISHER = {"kind": "github", "repository": "acme/reserved", "workflow": "release.yml"}


def test_new_names_are_limited_per_user_whichever_way_they_are_made(
    hubs: StartHub, counters: str | None, example_dists: dict[str, Path]
) -> None:
    hub = hubs(redis_url=counters, rate_limits=(("create_name", "2/hour"),))
    alice, bob = hub.user_with_token("alice"), hub.user_with_token("bob")
    with httpx.Client(base_url=hub.url, timeout=30) as http:
        assert upload(http, alice, example_dists["csv-dedupe:wheel"]).status_code == 200
        reserved = http.post(
            "/api/v1/components/reserved-name/publishers", json=PUBLISHER, headers=bearer(alice)
        )
        assert reserved.status_code in (200, 201), reserved.text
        third = upload(http, alice, example_dists["daily-sales-pipeline:wheel"])
        assert third.status_code == 429
        assert problem(third)["code"] == "rate.create_name"
        fourth = http.post(
            "/api/v1/components/another-name/publishers", json=PUBLISHER, headers=bearer(alice)
        )
        assert fourth.status_code == 429
        # A new file of an existing component is not a new name; another user has their own.
        assert upload(http, alice, example_dists["csv-dedupe:sdist"]).status_code == 200
        assert upload(http, bob, example_dists["daily-sales-pipeline:wheel"]).status_code == 200
        assert http.get("/api/v1/components/another-name").status_code == 404  # nothing kept


def test_uploads_are_limited_per_token(
    hubs: StartHub, counters: str | None, example_dists: dict[str, Path]
) -> None:
    hub = hubs(redis_url=counters, rate_limits=(("upload", "2/hour"),))
    first, second = hub.user_with_token("alice"), hub.user_with_token("alice")
    with httpx.Client(base_url=hub.url, timeout=30) as http:
        assert upload(http, first, example_dists["csv-dedupe:wheel"]).status_code == 200
        assert upload(http, first, example_dists["csv-dedupe:sdist"]).status_code == 200
        refused = upload(http, first, example_dists["daily-sales-pipeline:wheel"])
        assert refused.status_code == 429
        assert problem(refused)["code"] == "rate.upload"
        assert refused.headers["connection"] == "close"  # the body was never read
        assert upload(http, second, example_dists["daily-sales-pipeline:wheel"]).status_code == 200
