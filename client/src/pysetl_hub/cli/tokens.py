"""`tokens create|list|revoke`: the signed-in user's API tokens.

The secret of a new token is printed once, alone on stdout (so `$(pysetl-hub tokens create)`
captures it); everything else goes to stderr. A token may only create a narrower token; a
password sign-in (`pysetl-hub login --password`) may create any.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, cast

import click

from pysetl_hub.cli.options import Ctx, json_option, pass_ctx
from pysetl_hub.cli.output import emit_json, safe, say, show, table
from pysetl_hub.i18n import _

if TYPE_CHECKING:
    from pysetl_hub_schemas import TokenAction, TokenInfo

ACTIONS = ("upload", "yank", "manage")


@click.group()
def tokens() -> None:
    """Your API tokens: create one (shown once), list them, revoke one."""


def _default_name() -> str:
    import socket

    return f"cli on {socket.gethostname() or 'this machine'}"[:100]


@tokens.command("create")
@click.option("--name", help="What the token is for (default: the host's name).")
@click.option(
    "--component",
    "components",
    multiple=True,
    help="Scope it to this existing component (repeatable; default: all of yours).",
)
@click.option(
    "--action",
    "actions",
    multiple=True,
    type=click.Choice(ACTIONS),
    help="What it may do (repeatable; default: all three).",
)
@click.option("--expires-days", type=click.IntRange(min=1), help="Expire after N days.")
@click.option("--never-expires", is_flag=True, help="Never expire (default: the hub's 90 days).")
@click.option("--description", default="", help="A longer note.")
@json_option
@pass_ctx
def tokens_create(
    ctx: Ctx,
    name: str | None,
    components: tuple[str, ...],
    actions: tuple[str, ...],
    expires_days: int | None,
    never_expires: bool,
    description: str,
    as_json: bool,
) -> None:
    """Create a token and print its secret on stdout (shown this once)."""
    if expires_days is not None and never_expires:
        raise click.UsageError(_("give --expires-days or --never-expires, not both"))
    with ctx.client() as client:
        made = client.create_token(
            name or _default_name(),
            components=list(components) or None,
            actions=cast("list[TokenAction]", list(actions)) or None,
            expires_days=expires_days,
            never_expires=never_expires,
            description=description,
        )
    if as_json:
        emit_json(made)
        return
    click.echo(made.token)
    say(_("created {name}: {scope}; {actions}; expires {expires}").format(
        name=safe(made.info.name), scope=_scope(made.info), actions=", ".join(made.info.actions),
        expires=_date(made.info.expires)))  # fmt: skip
    say(_("this is the only time the token is shown: store it now"))


def _date(moment: datetime | None, never: str | None = None) -> str:
    if moment:
        return f"{moment:%Y-%m-%d %H:%M}"
    return _("never") if never is None else never


def _scope(t: TokenInfo) -> str:
    if t.components is None:
        return _("all components")
    return ", ".join(safe(n) for n in t.components)


@tokens.command("list")
@json_option
@pass_ctx
def tokens_list(ctx: Ctx, as_json: bool) -> None:
    """List your tokens (never their secrets), newest first."""
    with ctx.client() as client:
        listing = client.tokens()
    if as_json:
        emit_json(listing)
        return
    grid = table(
        _("id"), _("name"), _("scope"), _("actions"), _("created"), _("expires"), _("last used"),
        _("from"), _("revoked"), title=_("API tokens"),
    )  # fmt: skip
    for t in listing.tokens:
        grid.add_row(
            safe(t.id),
            safe(t.name or t.description or "-"),
            _scope(t),
            ", ".join(t.actions),
            _date(t.created),
            _date(t.expires),
            _date(t.last_used, "-"),
            safe(t.last_used_ip or "-"),
            _date(t.revoked, "-"),
        )
    show(grid)


@tokens.command("revoke")
@click.argument("token_id")
@pass_ctx
def tokens_revoke(ctx: Ctx, token_id: str) -> None:
    """Revoke your token TOKEN_ID (the 16 hex digits after pshub_, as `tokens list` shows)."""
    ident = token_id.removeprefix("pshub_").split("_")[0]
    with ctx.client() as client:
        info = client.revoke_token(ident)
    say(_("revoked {id} ({name})").format(id=safe(info.id), name=safe(info.name or "-")))


COMMANDS = [tokens]
