"""What the feed holds per process: the signing key, the serial watcher of live streams and
the webhook dispatcher; started and stopped with the app (`lifespan`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from litestar import Litestar
from litestar.datastructures import State

from pysetl_hub_server.feed.signing import FeedSigner, load_signer
from pysetl_hub_server.feed.stream import Serials
from pysetl_hub_server.feed.webhooks.dispatch import Dispatcher
from pysetl_hub_server.hub import Hub


@dataclass(slots=True)
class FeedRuntime:
    signer: FeedSigner
    serials: Serials
    dispatcher: Dispatcher

    @classmethod
    def build(cls, hub: Hub) -> FeedRuntime:
        """Load (or make) the key now, so a bad key stops the start, not the first read."""
        runtime = cls(
            load_signer(hub.settings),
            Serials(hub.sessions, hub.settings.feed.stream_poll),
            Dispatcher(hub),
        )
        # A change this process commits reaches its own streams and webhooks at once.
        hub.cache.on_invalidate(lambda _name: runtime.wake())
        return runtime

    def wake(self) -> None:
        self.serials.wake()
        self.dispatcher.wake()

    @asynccontextmanager
    async def lifespan(self, app: Litestar) -> AsyncIterator[None]:
        self.serials.start()
        self.dispatcher.start()
        try:
            yield
        finally:
            await self.dispatcher.stop()
            await self.serials.stop()


def provide_feed(state: State) -> FeedRuntime:
    feed: FeedRuntime = state.feed
    return feed
