"""Rate limits on the actions an attacker repeats: sign-in, bad tokens, new names, uploads,
leaked-token reports.

Counting is the `limits` library's moving window, in memory for one process, or in Redis when
`PYSETL_HUB_REDIS_URL` is set, so that every replica counts against the same numbers.
`PYSETL_HUB_RATE_LIMITS` replaces limits by name (`signin=10/5 minutes,upload=100/hour`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable

from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from pysetl_hub_server.errors import TooManyRequests
from pysetl_hub_server.i18n.messages import Message, _
from pysetl_hub_server.settings import SettingsError

# policy -> (limit, what it limits, in words for the 429)
POLICIES: dict[str, tuple[str, Message]] = {
    "signin": ("10/5 minutes", _("sign-in attempts")),
    "bad_token": ("60/5 minutes", _("requests with an invalid API token")),
    "create_name": ("20/hour", _("new components and name reservations")),
    "upload": ("300/hour", _("uploads with one token")),
    "leak_report": ("30/hour", _("leaked-token reports")),
    "mint": ("60/5 minutes", _("trusted-publishing token exchanges")),
}


class Limiter:
    """Counts events per (policy, key) and answers 429 with Retry-After past the limit."""

    def __init__(
        self,
        redis_url: str | None = None,
        prefix: str = "pysetl-hub",
        limits: Iterable[tuple[str, str]] = (),
    ) -> None:
        if redis_url:  # redis-py's asyncio client (limits' default, coredis, pins packaging<26)
            uri = "async+" + redis_url.removeprefix("async+")
            storage = storage_from_string(uri, key_prefix=prefix, implementation="redispy")
        else:
            storage = storage_from_string("async+memory://")
        assert isinstance(storage, Storage)  # an async+ URI gives an async storage
        self._storage = storage
        self._window = MovingWindowRateLimiter(self._storage)
        self._items: dict[str, RateLimitItem] = {
            name: parse(limit) for name, (limit, _words) in POLICIES.items()
        }
        for policy, limit in limits:
            if policy not in POLICIES:
                raise SettingsError(
                    f"PYSETL_HUB_RATE_LIMITS names {policy!r}, which is not a policy: use "
                    f"{', '.join(POLICIES)}"
                )
            try:
                self.override(policy, limit)
            except ValueError as exc:
                raise SettingsError(
                    f"PYSETL_HUB_RATE_LIMITS gives {policy}={limit!r}, which is not a limit "
                    "like 10/5 minutes or 100/hour"
                ) from exc

    def override(self, policy: str, limit: str) -> None:
        """Change one policy's limit (settings; tests use small ones)."""
        self._items[policy] = parse(limit)

    async def hit(self, policy: str, *keys: str) -> None:
        """Count one event against every key (say, the user and the IP); the first key over
        its limit refuses the request, and nothing more is counted."""
        item = self._items[policy]
        for key in keys:
            if not await self._window.test(item, policy, key):
                await self._refuse(policy, item, key)
        for key in keys:
            await self._window.hit(item, policy, key)

    async def check(self, policy: str, *keys: str) -> None:
        """Refuse when a key is already over its limit, without counting (for failures, which
        are counted by `hit` only once they have happened)."""
        item = self._items[policy]
        for key in keys:
            if not await self._window.test(item, policy, key):
                await self._refuse(policy, item, key)

    async def clear(self, policy: str, *keys: str) -> None:
        """Forget the keys' counts (a successful sign-in clears its failures)."""
        for key in keys:
            await self._window.clear(self._items[policy], policy, key)

    async def _refuse(self, policy: str, item: RateLimitItem, key: str) -> None:
        stats = await self._window.get_window_stats(item, policy, key)
        retry = max(1, math.ceil(stats.reset_time - time.time()))
        words = POLICIES[policy][1]
        raise TooManyRequests(
            f"rate.{policy}",
            _(
                "too many {words}: the limit is {item}; try again in {retry} s",
                words=words,
                item=item,
                retry=retry,
            ),
            retry_after=retry,
        )
