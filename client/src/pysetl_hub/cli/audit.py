"""`pysetl-hub audit`: the hub's advisories against what an environment (or a lock file) holds.

Exit codes: 0 nothing affected, 1 something is affected; an error exits with its code from
docs/client.md, except the generic one (1 elsewhere), which is 10 here so that 1 always
means "affected".
"""

from __future__ import annotations

from pathlib import Path

import click

from pysetl_hub.cli.options import Ctx, json_option, pass_ctx
from pysetl_hub.cli.output import emit_json, joined, safe, say, show, table
from pysetl_hub.i18n import _

AFFECTED = 1
FAILED = 10  # a HubError whose usual exit code is 1 (this command's 1 means "affected")


@click.command("audit")
@click.option("--python", help="Audit this interpreter's environment (default: this one).")
@click.option(
    "--lock",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Audit the [[packages]] of a PEP 751 lock file (pylock.toml) instead.",
)
@json_option
@pass_ctx
@click.pass_context
def audit_cmd(
    click_ctx: click.Context, ctx: Ctx, python: str | None, lock: Path | None, as_json: bool
) -> None:
    """Check installed (or locked) distributions against the hub's security advisories.

    Exits 1 when an advisory affects one of them, 0 when none does."""
    from pysetl_hub import advisories
    from pysetl_hub.cli.group import exit_code, report
    from pysetl_hub.errors import HubError
    from pysetl_hub_schemas.osv import AuditReport

    if python and lock:
        raise click.UsageError(_("give --python or --lock, not both"))
    try:
        if lock is not None:
            found, source = advisories.locked(lock), str(lock)
        else:
            found = advisories.installed(python)
            source = python or _("this interpreter")
        with ctx.client() as client:
            affected = client.audit(found)
    except HubError as error:
        report(error)
        code = exit_code(error)
        click_ctx.exit(FAILED if code == AFFECTED else code)
    if as_json:
        emit_json(
            AuditReport(hub=ctx.config.url, source=source, checked=len(found), affected=affected)
        )
    elif not affected:
        say(
            _("[green]no known advisories[/] affect the {count} distributions of {source}").format(
                count=len(found), source=safe(source)
            )
        )
    else:
        grid = table(_("distribution"), _("version"), _("advisory"), _("fixed in"), _("summary"))
        for finding in affected:
            for a in finding.advisories:
                ids = " ".join([a.id, *a.aliases])
                grid.add_row(
                    safe(finding.name), safe(finding.version), safe(ids),
                    joined(a.fixed_in) or "-", safe(a.summary),
                )  # fmt: skip
        show(grid)
        say(
            _("[red]{affected} of {count}[/] distributions are affected").format(
                affected=len(affected), count=len(found)
            )
        )
    if affected:
        click_ctx.exit(AFFECTED)


COMMANDS = [audit_cmd]
