"""`flags`: the anomaly flags the hub raised: a component's (its owners may read them), or
every flag (admins)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from pysetl_hub.cli.options import Ctx, json_option, pass_ctx
from pysetl_hub.cli.output import emit_json, safe, say, show, table
from pysetl_hub.i18n import _

if TYPE_CHECKING:
    from pysetl_hub_schemas import FlagPage


def _print(page: FlagPage, title: str) -> None:
    grid = table(_("id"), _("when (UTC)"), _("component"), _("flag"), _("evidence"), title=title)
    for f in page.flags:
        evidence = ", ".join(
            f"{k}={v}" for k, v in sorted(f.detail.items()) if k != "key" and v not in (None, "")
        )
        grid.add_row(
            str(f.id),
            f.created.strftime("%Y-%m-%d %H:%M:%S"),
            safe(f.component or "-"),
            safe(f.kind),
            safe(evidence or "-"),
        )
    show(grid)
    if not page.flags:
        say(_("no anomaly flags"))
    if page.next_before is not None:
        say(_("older flags: --before {id}").format(id=page.next_before))


@click.command()
@click.argument("name", required=False)
@click.option("--before", type=int, help="Only flags older than this id (the next page).")
@click.option(
    "--limit", type=click.IntRange(1, 100), default=50, show_default=True, help="Flags per page."
)
@json_option
@pass_ctx
def flags(ctx: Ctx, name: str | None, before: int | None, limit: int, as_json: bool) -> None:
    """Anomaly flags, newest first: NAME's (its owners may read them), or without NAME every
    flag of the hub (admins). docs/concepts/anomalies.md explains each flag."""
    with ctx.client() as client:
        page = client.flags(name, before=before, per_page=limit)
    if as_json:
        emit_json(page)
        return
    title = _("flags of {name}").format(name=name) if name else _("every flag")
    _print(page, safe(title))


COMMANDS = [flags]
