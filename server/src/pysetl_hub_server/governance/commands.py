"""`pysetl-hub-server admin ...`: the admin actions from the server's own command line, acting
as `Actor` ADMIN_CLI (the operator, who holds the database, needs no account)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import click

from pysetl_hub_server.audit.services import ADMIN_CLI
from pysetl_hub_server.governance import quarantine
from pysetl_hub_server.hub import Hub

# Runs a coroutine against an open hub for a command (cli.py owns how a hub is opened).
WithHub = Callable[[click.Context, Callable[[Hub], Awaitable[Any]]], Any]


def admin_group(with_hub: WithHub, group_class: type[click.Group]) -> click.Group:
    @click.group(cls=group_class)
    def admin() -> None:
        """Hub admin actions: the admin role, quarantine, prohibited names, prefixes."""

    @admin.command("grant")
    @click.argument("user")
    @click.pass_context
    def grant(ctx: click.Context, user: str) -> None:
        """Make USER a hub admin."""
        with_hub(ctx, lambda hub: quarantine.set_admin(hub, ADMIN_CLI, user, True))
        click.echo(f"{user} is now a hub admin", err=True)

    @admin.command("revoke")
    @click.argument("user")
    @click.pass_context
    def revoke(ctx: click.Context, user: str) -> None:
        """Take the hub admin role from USER."""
        with_hub(ctx, lambda hub: quarantine.set_admin(hub, ADMIN_CLI, user, False))
        click.echo(f"{user} is no longer a hub admin", err=True)

    @admin.command("quarantine")
    @click.argument("name")
    @click.option("--reason", required=True, help="Why: shown to the component's owners.")
    @click.pass_context
    def quarantine_cmd(ctx: click.Context, name: str, reason: str) -> None:
        """Hide component NAME, stop serving its files and refuse uploads to it."""
        with_hub(ctx, lambda hub: quarantine.quarantine(hub, ADMIN_CLI, name, reason))
        click.echo(f"quarantined {name}", err=True)

    @admin.command("release")
    @click.argument("name")
    @click.pass_context
    def release(ctx: click.Context, name: str) -> None:
        """Release component NAME from quarantine."""
        with_hub(ctx, lambda hub: quarantine.release(hub, ADMIN_CLI, name))
        click.echo(f"released {name}", err=True)

    @admin.command("prohibit")
    @click.argument("name")
    @click.option("--reason", default="", help="Why: shown to whoever tries the name.")
    @click.pass_context
    def prohibit(ctx: click.Context, name: str, reason: str) -> None:
        """Prohibit NAME (and its look-alikes) for new components."""
        with_hub(ctx, lambda hub: quarantine.prohibit(hub, ADMIN_CLI, name, reason))
        click.echo(f"prohibited {name}", err=True)

    @admin.command("reserve-prefix")
    @click.argument("org")
    @click.argument("prefix")
    @click.pass_context
    def reserve_prefix(ctx: click.Context, org: str, prefix: str) -> None:
        """Let only members of ORG create components named PREFIX or PREFIX-*."""
        with_hub(ctx, lambda hub: quarantine.reserve_prefix(hub, ADMIN_CLI, org, prefix))
        click.echo(f"reserved {prefix}-* for {org}", err=True)

    return admin
