"""A real server over loopback: the app under uvicorn in a background thread.

Tests talk HTTP to it like any client would, and can still reach the in-process services
(`hub`) to arm fault points or look at the database.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import uvicorn

from pysetl_hub_server.accounts.services import create_token, create_user
from pysetl_hub_server.app import create_app
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.runtime import build_hub, open_hub
from pysetl_hub_server.settings import Settings
from tests.support.postgres import free_port

T = TypeVar("T")


@dataclass
class LiveServer:
    url: str
    settings: Settings
    hub: Hub
    server: uvicorn.Server
    thread: threading.Thread

    def run(self, fn: Callable[[Hub], Awaitable[T]]) -> T:
        """Run a coroutine against a private Hub on this thread's own event loop."""

        async def go() -> T:
            async with open_hub(self.settings) as hub:
                return await fn(hub)

        return asyncio.run(go())

    def user_with_token(
        self, username: str, *, component: str | None = None, expires_days: int | None = None
    ) -> str:
        async def go(hub: Hub) -> str:
            async with hub.sessions() as session:
                from sqlalchemy import select

                from pysetl_hub_server.db.models import User

                exists = await session.scalar(select(User).where(User.username == username))
                if exists is None:
                    await create_user(session, username, f"{username}@example.org", "password123")
                token = await create_token(
                    session, username, component=component, expires_days=expires_days
                )
                await session.commit()
                return token

        return self.run(go)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def start_live(settings: Settings, port: int | None = None) -> LiveServer:
    """`port`: a fixed one, for a server restarted where its followers look for it."""
    port = port or free_port()
    hub = build_hub(settings)
    app = create_app(settings, hub=hub)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        access_log=False,
        proxy_headers=False,  # as `serve` runs it: the hub alone decides whom to believe
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True, name=f"hub-{port}")
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    return LiveServer(f"http://127.0.0.1:{port}", settings, hub, server, thread)
