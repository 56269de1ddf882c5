"""`pysetl-hub-server`: serve, migrate, and bootstrap users and tokens without a web page.

Every command reads the same settings: flags win over `PYSETL_HUB_*` variables, which win
over the embedded defaults (SQLite and files in ./hub-data).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click

from pysetl_hub_server import launch
from pysetl_hub_server.accounts.commands import tokens_group, users_group
from pysetl_hub_server.audit.chain import Verdict
from pysetl_hub_server.backup.commands import backup, restore
from pysetl_hub_server.db.migrate import upgrade
from pysetl_hub_server.errors import HubError
from pysetl_hub_server.governance.commands import admin_group
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.logs import configure_logging
from pysetl_hub_server.mirror.commands import mirror_command
from pysetl_hub_server.observability import multiproc
from pysetl_hub_server.runtime import open_hub
from pysetl_hub_server.security.production import check_production
from pysetl_hub_server.security.secrets import secret_from_env
from pysetl_hub_server.settings import Settings, SettingsError

T = TypeVar("T")


def _settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.obj
    return settings


def _run(coro: Awaitable[T]) -> T:
    async def wrapper() -> T:
        return await coro

    try:
        return asyncio.run(wrapper())
    except HubError as exc:
        click.echo(f"error: {exc.detail}", err=True)
        sys.exit(1)


DATA_DIR_HELP = "Data directory (./hub-data)."
DATABASE_URL_HELP = "SQLAlchemy URL; SQLite in the data dir by default."


def _override(ctx: click.Context, param: click.Parameter, value: object) -> None:
    """A --data-dir/--database-url given after a subcommand wins over one given before it."""
    if value is not None and param.name is not None:
        ctx.obj = _settings(ctx).with_overrides(**{param.name: value})


class ServerGroup(click.Group):
    """Every command it holds, and every group below it, also takes --data-dir and
    --database-url, so `serve --data-dir D` works as well as `--data-dir D serve`."""

    group_class = type  # subgroups are ServerGroups too

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        if not any(p.name == "data_dir" for p in cmd.params):
            cmd.params += [
                click.Option(
                    ["--data-dir"],
                    type=click.Path(path_type=Path),
                    expose_value=False,
                    callback=_override,
                    help=DATA_DIR_HELP,
                ),
                click.Option(
                    ["--database-url"],
                    expose_value=False,
                    callback=_override,
                    help=DATABASE_URL_HELP,
                ),
            ]
        super().add_command(cmd, name)


@click.group(cls=ServerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--data-dir", type=click.Path(path_type=Path), help=DATA_DIR_HELP)
@click.option("--database-url", help=DATABASE_URL_HELP)
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None, database_url: str | None) -> None:
    """PySetl Hub registry server."""
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from exc
    ctx.obj = settings.with_overrides(data_dir=data_dir, database_url=database_url)


@main.command()
@click.option("--host", help="Interface to bind (127.0.0.1).")
@click.option("--port", type=int, help="Port (8000).")
@click.option(
    "--workers", type=int, default=1, show_default=True, help="Worker processes to start."
)
@click.option(
    "--server",
    "server_name",
    type=click.Choice(["granian", "uvicorn"]),
    default="granian",
    show_default=True,
    help="ASGI server: granian (Rust HTTP stack, the fast default) or uvicorn.",
)
@click.option(
    "--access-log/--no-access-log",
    default=True,
    show_default=True,
    help="Log one line per request.",
)
@click.option(
    "--tls-cert",
    type=click.Path(path_type=Path, dir_okay=False),
    help="PEM certificate (chain) to serve HTTPS with (PYSETL_HUB_TLS_CERT).",
)
@click.option(
    "--tls-key",
    type=click.Path(path_type=Path, dir_okay=False),
    help="PEM private key of --tls-cert (PYSETL_HUB_TLS_KEY).",
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    workers: int,
    server_name: str,
    access_log: bool,
    tls_cert: Path | None,
    tls_key: Path | None,
) -> None:
    """Apply migrations, then serve the registry."""
    settings = _settings(ctx).with_overrides(
        host=host, port=port, tls_cert=tls_cert, tls_key=tls_key
    )
    try:
        check_production(settings)
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from exc
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.effective_database_url)
    # Workers re-read settings from the environment in the app factory.
    os.environ["PYSETL_HUB_DATA_DIR"] = str(settings.data_dir)
    _export("PYSETL_HUB_DATABASE_URL", settings.database_url)
    for name, path in (
        ("PYSETL_HUB_TLS_CERT", settings.tls_cert),
        ("PYSETL_HUB_TLS_KEY", settings.tls_key),
    ):
        if path is not None:
            os.environ[name] = str(path.resolve())
    # The workers write the access log themselves (observability/layer.py: route, request id).
    os.environ["PYSETL_HUB_ACCESS_LOG"] = "1" if access_log else "0"
    os.environ.setdefault("PYSETL_HUB_GC_FREEZE", "1")  # settings.py: gc_freeze
    scheme = "https" if settings.tls_cert else "http"
    serving = f"PySetl Hub serving on {scheme}://{settings.host}:{settings.port}"
    if settings.log_format == "json":
        configure_logging(settings.log_level, settings.log_format)
        logging.getLogger("pysetl_hub_server").info(serving)
    else:
        click.echo(serving, err=True)
    if server_name == "granian":
        options = {
            "host": settings.host,
            "port": settings.port,
            "workers": workers,
            "log_format": settings.log_format,
            "log_level": settings.log_level,
            "tls_cert": str(settings.tls_cert.resolve()) if settings.tls_cert else None,
            "tls_key": str(settings.tls_key.resolve()) if settings.tls_key else None,
        }
        launch.replace_self(options)  # launch.py: a lean process watches the workers
    if workers > 1:
        multiproc.prepare()  # before any worker starts: their metrics share its files
    import uvicorn

    uvicorn.run(
        launch.TARGET,
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        access_log=False,
        log_level="info",
        # The hub reads X-Forwarded-For itself, from trusted proxies only (security/proxies.py);
        # uvicorn's own rewrite would trust any local peer.
        proxy_headers=False,
        ssl_certfile=settings.tls_cert,
        ssl_keyfile=settings.tls_key,
    )


def _export(name: str, value: str | None) -> None:
    """Hand a setting the command line gave to the workers, which read the environment. A
    value the environment (or its `_FILE`) already gives is left where it is, so a secret read
    from a file is not copied into the environment."""
    if value is None or value == secret_from_env(os.environ, name):
        return
    os.environ.pop(f"{name}_FILE", None)
    os.environ[name] = value


@main.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@click.argument("revision", default="head")
@click.pass_context
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Apply migrations up to REVISION (head)."""
    settings = _settings(ctx)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.effective_database_url, revision)
    click.echo(f"database at {revision}", err=True)


@main.group()
def search() -> None:
    """The search index."""


@search.command("reindex")
@click.pass_context
def search_reindex(ctx: click.Context) -> None:
    """Rebuild the search index from the database (any engine)."""

    async def go(hub: Hub) -> int:
        await hub.search.start()
        return await hub.indexer.reindex()

    count = _with_hub(ctx, go)
    engine = "meilisearch" if _settings(ctx).search_url else "built-in"
    click.echo(f"indexed {count} components with the {engine} engine", err=True)


@main.group()
def audit() -> None:
    """The hash-chained audit trail."""


@audit.command("verify")
@click.pass_context
def audit_verify(ctx: click.Context) -> None:
    """Walk the audit chain: exit 0 with the number of events, or 1 naming the first bad one."""
    settings = _settings(ctx)

    async def go() -> Verdict:
        from pysetl_hub_server.audit.chain import verify

        async with open_hub(settings) as hub, hub.sessions() as session:
            return await verify(session)

    verdict = _run(go())
    if not verdict.ok:
        click.echo(
            f"audit chain broken after {verdict.checked} good events: {verdict.problem}", err=True
        )
        sys.exit(1)
    click.echo(f"audit chain ok: {verdict.checked} events", err=True)
    if verdict.head_hash:
        click.echo(f"head {verdict.head_hash}", err=True)


@main.group()
def admin() -> None:
    """Switches for the whole hub."""


@admin.command("read-only")
@click.argument("state", type=click.Choice(["on", "off", "status"]))
@click.option("--message", default="", help="Told to every refused writer (why, and until when).")
@click.pass_context
def admin_read_only(ctx: click.Context, state: str, message: str) -> None:
    """Refuse every write on every replica (on), accept them again (off), or show the state."""
    settings = _settings(ctx)
    upgrade(settings.effective_database_url)

    async def go() -> str | None:
        from pysetl_hub_server.security.readonly import read_flag, set_read_only

        async with open_hub(settings) as hub:
            if state != "status":
                await set_read_only(hub, state == "on", message)
            return await read_flag(hub)

    current = _run(go())
    if settings.read_only:
        click.echo("read-only: on (PYSETL_HUB_READ_ONLY is set; only the environment ends it)")
    elif current is None:
        click.echo("read-only: off")
    else:
        click.echo(f"read-only: on ({current or 'no message'})")


def _with_hub(ctx: click.Context, fn: Callable[[Hub], Awaitable[T]]) -> T:
    """Run `fn` against an open hub on the migrated database of the command's settings."""
    settings = _settings(ctx)
    upgrade(settings.effective_database_url)

    async def go() -> T:
        async with open_hub(settings) as hub:
            return await fn(hub)

    return _run(go())


main.add_command(users_group(_with_hub, ServerGroup))
main.add_command(tokens_group(_with_hub, ServerGroup))
for _command in admin_group(_with_hub, ServerGroup).commands.values():
    admin.add_command(_command)


for _command in (backup, restore):
    main.add_command(_command)


def _mirror_app(settings: Settings) -> object:
    from pysetl_hub_server.app import create_app

    return create_app(settings)


main.add_command(mirror_command(_mirror_app, open_hub))
