"""`events`: read the audit trail: a component's events (owners), your own security events,
or every event (admins)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from pysetl_hub.cli.options import Ctx, json_option, pass_ctx
from pysetl_hub.cli.output import emit_json, safe, say, show, table
from pysetl_hub.i18n import _

if TYPE_CHECKING:
    from pysetl_hub_schemas import AuditEventPage


def _print(page: AuditEventPage, title: str) -> None:
    grid = table(
        _("id"), _("when (UTC)"), _("action"), _("actor"), _("target"), _("detail"), _("from"),
        title=title,
    )  # fmt: skip
    for e in page.events:
        detail = ", ".join(f"{k}={v}" for k, v in sorted(e.detail.items()) if v not in (None, ""))
        origin = " ".join(x for x in (e.ip, e.user_agent) if x) or "-"
        grid.add_row(
            str(e.id),
            e.created.strftime("%Y-%m-%d %H:%M:%S"),
            safe(e.action),
            safe(e.actor),
            safe(e.target),
            safe(detail or "-"),
            safe(origin),
        )
    show(grid)
    if page.next_before is not None:
        say(_("older events: --before {id}").format(id=page.next_before))


@click.command()
@click.argument("name", required=False)
@click.option("--all", "every", is_flag=True, help="Every event of the hub (admins only).")
@click.option("--before", type=int, help="Only events older than this id (the next page).")
@click.option(
    "--limit", type=click.IntRange(1, 100), default=50, show_default=True, help="Events per page."
)
@json_option
@pass_ctx
def events(
    ctx: Ctx, name: str | None, every: bool, before: int | None, limit: int, as_json: bool
) -> None:
    """Audit events, newest first: NAME's (its owners may read them), or without NAME your own
    security events (sign-ins, tokens, revocations); --all for every event (admins)."""
    if name is not None and every:
        raise click.UsageError(_("give NAME or --all, not both"))
    with ctx.client() as client:
        page = client.events(name, every=every, before=before, per_page=limit)
    if as_json:
        emit_json(page)
        return
    if name:
        title = _("events of {name}").format(name=name)
    else:
        title = _("every event") if every else _("your security events")
    _print(page, safe(title))


COMMANDS = [events]
