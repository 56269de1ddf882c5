"""`pysetl-hub-server mirror --from URL`: serve a read-only hub that follows an origin.

One process: the hub app under uvicorn, and beside it the follower, with its own `Hub` on the
same database and blob store (the app's caches see the follower's changes through the
database serial, as replicas do). The composition root (`cli.py`) hands in how to build the
app and a hub, so this package stays below it.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import click

from pysetl_hub_schemas.feed import FeedKey
from pysetl_hub_server.db.migrate import upgrade
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.logs import configure_logging
from pysetl_hub_server.mirror.follower import Follower, KeyRefused, pin, pinned_key
from pysetl_hub_server.mirror.origin import Origin, OriginError, key_from_text
from pysetl_hub_server.security.readonly import read_flag, set_read_only
from pysetl_hub_server.settings import Settings

log = logging.getLogger("pysetl_hub_server.mirror")

AppFactory = Callable[[Settings], Any]
HubOpener = Callable[[Settings], AbstractAsyncContextManager[Hub]]


def read_only_message(origin: str) -> str:
    return f"this hub is a read-only mirror of {origin}; publish and manage there"


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _key(text: str | None) -> FeedKey | None:
    if text is None:
        return None
    if text.startswith("@"):
        text = Path(text[1:]).read_text(encoding="utf-8")
    return key_from_text(text)


async def prepare(
    hub: Hub, origin: Origin, given: FeedKey | None, *, accept_change: bool
) -> FeedKey:
    """Pin (or check) the key, and turn the read-only switch on with the mirror's message."""
    state = await pin(hub, origin, given, accept_change=accept_change)
    message = read_only_message(origin.base)
    if await read_flag(hub) != message:
        await set_read_only(hub, True, message)
    return pinned_key(state)


async def _run(
    settings: Settings,
    url: str,
    given: FeedKey | None,
    accept_change: bool,
    interval: float,
    make_app: AppFactory,
    open_hub: HubOpener,
) -> None:
    import uvicorn

    origin = Origin.open(url)
    try:
        async with open_hub(settings) as hub:
            key = await prepare(hub, origin, given, accept_change=accept_change)
            follower = Follower(hub, origin, key, interval)
            config = uvicorn.Config(
                make_app(settings),
                host=settings.host,
                port=settings.port,
                log_level="warning",
                lifespan="on",
                access_log=False,
                proxy_headers=False,
            )
            server = uvicorn.Server(config)
            stop = asyncio.Event()
            task = asyncio.create_task(follower.run(stop))
            log.info(
                "PySetl Hub mirror of %s (key %s) serving on http://%s:%s",
                origin.base, key.key_id, settings.host, settings.port,
            )  # fmt: skip
            try:
                await server.serve()
            finally:
                stop.set()
                await task
    finally:
        await origin.close()


def mirror_command(make_app: AppFactory, open_hub: HubOpener) -> click.Command:
    """The `mirror` command, given how to build the served app and a hub (from cli.py)."""

    @click.command("mirror")
    @click.option("--from", "origin", required=True, help="The origin hub's base URL.")
    @click.option(
        "--key",
        help="The origin's feed key to pin: its /.well-known/pysetl-hub/feed-key JSON or the "
        "base64 public key, or @FILE holding either (default: fetched at the first start).",
    )
    @click.option(
        "--accept-key-change",
        is_flag=True,
        help="Pin the origin's new key when it differs from the pinned one (after a rotation).",
    )
    @click.option("--host", help="Interface to bind (127.0.0.1).")
    @click.option("--port", type=int, help="Port (8000).")
    @click.option(
        "--interval", type=float, default=2.0, show_default=True, help="Seconds between polls."
    )
    @click.pass_context
    def mirror(
        ctx: click.Context,
        origin: str,
        key: str | None,
        accept_key_change: bool,
        host: str | None,
        port: int | None,
        interval: float,
    ) -> None:
        """Serve a read-only mirror of the hub at --from: follow its signed change feed, copy
        components, files (sha256-checked) and provenance (verified), apply yanks, deletions
        and quarantines. Keeps serving while the origin is away; resumes from its cursor."""
        settings: Settings = ctx.obj
        settings = settings.with_overrides(host=host, port=port)
        configure_logging(settings.log_level, settings.log_format)
        logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per feed poll
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        upgrade(settings.effective_database_url)
        try:
            given = _key(key)
            asyncio.run(
                _run(settings, origin, given, accept_key_change, interval, make_app, open_hub)
            )
        except (KeyRefused, OSError) as exc:
            _fail(str(exc))
        except OriginError as exc:
            hint = ""
            if exc.code.startswith("mirror.origin_"):
                hint = (
                    "; a new mirror pins the origin's feed key at its first start: start it "
                    "when the origin answers, or give the key with --key"
                )
            _fail(f"{exc.message} ({exc.code}){hint}")

    return mirror
