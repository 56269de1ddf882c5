"""`stats NAME`: a component's downloads, per day and per version."""

from __future__ import annotations

import click

from pysetl_hub.cli.options import Ctx, json_option, pass_ctx
from pysetl_hub.cli.output import emit_json, safe, say, show, table
from pysetl_hub.i18n import _

BAR = 30  # characters of the longest bar in the daily table


@click.command("stats")
@click.argument("name")
@click.option(
    "--days",
    type=click.IntRange(1, 366),
    default=30,
    show_default=True,
    help="Days in the daily series, today (UTC) included.",
)
@json_option
@pass_ctx
def stats(ctx: Ctx, name: str, days: int, as_json: bool) -> None:
    """Downloads of a component: totals, per version, and a daily series."""
    with ctx.client() as client:
        found = client.downloads(name, days)
    if as_json:
        emit_json(found)
        return
    say(
        _("[bold]{name}[/]: {recent} downloads in the last 30 days, {total} in all").format(
            name=safe(found.name), recent=f"{found.last_30_days:,}", total=f"{found.total:,}"
        )
    )
    if found.versions:
        grid = table(_("version"), _("last 30 days"), _("total"), title=_("by version"))
        for v in found.versions:
            grid.add_row(safe(v.version), f"{v.last_30_days:,}", f"{v.total:,}")
        show(grid)
    most = max((d.downloads for d in found.series), default=0)
    daily = table(_("day"), _("downloads"), "", title=_("per day (UTC)"))
    for d in found.series:
        bar = "█" * round(BAR * d.downloads / most) if most else ""
        daily.add_row(d.day.isoformat(), f"{d.downloads:,}", bar)
    show(daily)


COMMANDS = [stats]
