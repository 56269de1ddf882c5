"""`pysetl-hub-server users ...` and `tokens ...`: accounts and API tokens from the server's own
command line, for the first admin before any web page can be used (and for automation)."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import Any

import click

from pysetl_hub_server.accounts.services import create_token, create_user, revoke_token
from pysetl_hub_server.hub import Hub

# Runs a coroutine against an open hub for a command (cli.py owns how a hub is opened).
WithHub = Callable[[click.Context, Callable[[Hub], Awaitable[Any]]], Any]


def users_group(with_hub: WithHub, group_class: type[click.Group]) -> click.Group:
    @click.group("users", cls=group_class)
    def users() -> None:
        """User accounts."""

    @users.command("create")
    @click.argument("name")
    @click.option("--email", required=True, help="The user's e-mail address.")
    @click.option("--password-stdin/--prompt", default=True, help="Read the password from stdin.")
    @click.pass_context
    def users_create(ctx: click.Context, name: str, email: str, password_stdin: bool) -> None:
        """Create user NAME; the password is read from stdin (never from argv)."""
        if password_stdin and not sys.stdin.isatty():
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = click.prompt("password", hide_input=True, confirmation_prompt=True)

        async def create(hub: Hub) -> None:
            async with hub.sessions() as session:
                await create_user(session, name, email, password)
                await session.commit()

        with_hub(ctx, create)
        click.echo(f"created user {name}", err=True)

    return users


def tokens_group(with_hub: WithHub, group_class: type[click.Group]) -> click.Group:
    @click.group("tokens", cls=group_class)
    def tokens() -> None:
        """API tokens (shown once, stored hashed)."""

    @tokens.command("create")
    @click.argument("user")
    @click.option(
        "--component",
        "components",
        multiple=True,
        help="Scope the token to this existing component (repeatable; default: all of USER's).",
    )
    @click.option(
        "--action",
        "actions",
        multiple=True,
        type=click.Choice(["upload", "yank", "manage"]),
        help="What the token may do (repeatable; default: all three).",
    )
    @click.option(
        "--expires-days",
        type=int,
        help="Expire after N days (default: PYSETL_HUB_TOKEN_DEFAULT_DAYS, 90).",
    )
    @click.option("--never-expires", is_flag=True, help="Never expire (only when chosen).")
    @click.option("--name", default="", help="What the token is for.")
    @click.option("--description", default="", help="A note to recognise the token by.")
    @click.pass_context
    def tokens_create(
        ctx: click.Context,
        user: str,
        components: tuple[str, ...],
        actions: tuple[str, ...],
        expires_days: int | None,
        never_expires: bool,
        name: str,
        description: str,
    ) -> None:
        """Create a token for USER and print only the token on stdout."""
        if expires_days is not None and never_expires:
            raise click.UsageError("give --expires-days or --never-expires, not both")

        async def create(hub: Hub) -> str:
            async with hub.sessions() as session:
                token = await create_token(
                    session,
                    user,
                    components=list(components) or None,
                    actions=list(actions) or None,
                    expires_days=expires_days,
                    never_expires=never_expires,
                    default_days=hub.settings.token_default_days,
                    name=name,
                    description=description,
                    origin="admin",
                )
                await session.commit()
                return token

        click.echo(with_hub(ctx, create))

    @tokens.command("revoke")
    @click.argument("token_id")
    @click.pass_context
    def tokens_revoke(ctx: click.Context, token_id: str) -> None:
        """Revoke a token by its public id (the 16 hex digits after pshub_)."""

        async def revoke(hub: Hub) -> None:
            async with hub.sessions() as session:
                await revoke_token(session, token_id)
                await session.commit()

        with_hub(ctx, revoke)
        click.echo(f"revoked {token_id}", err=True)

    return tokens
