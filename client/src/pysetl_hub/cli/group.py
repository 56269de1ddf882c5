"""The root `pysetl-hub` group, and the one place a HubError becomes output and an exit code.

Commands raise the library's errors (`pysetl_hub.errors`) and never catch them to print:
`HubGroup.invoke` prints `error:` and `hint:` and exits with the code docs/client.md documents.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from pysetl_hub import __version__, errors
from pysetl_hub.cli.options import Ctx
from pysetl_hub.cli.output import err, safe
from pysetl_hub.i18n import _, use_for_click

# First match wins: the more specific class comes before its base.
EXIT_CODES: list[tuple[type[errors.HubError], int]] = [
    (errors.BadRequirement, 2),
    (errors.NotOnHub, 3),
    (errors.NotFound, 3),
    (errors.ResolutionError, 4),
    (errors.IntegrityError, 5),
    (errors.InstallError, 6),
    (errors.TransportError, 7),
    (errors.Unauthorized, 8),
    (errors.Forbidden, 8),
    (errors.NotLoggedIn, 8),
    (errors.ProvenanceError, 9),
    (errors.HubError, 1),
]

CONTEXT = {"help_option_names": ["-h", "--help"]}


def exit_code(exc: errors.HubError) -> int:
    return next(code for kind, code in EXIT_CODES if isinstance(exc, kind))


def report(exc: errors.HubError) -> None:
    """`error: <message>` and `hint: <fix>` on stderr; the text may quote the hub or a package,
    so it is neutralised like any other outside text."""
    console = err()
    message, hint = safe(str(exc), lines=True), exc.fix()
    console.print(_("[bold red]error:[/] {message}").format(message=message), soft_wrap=True)
    if hint:
        console.print(
            _("[yellow]hint:[/] {hint}").format(hint=safe(hint, lines=True)), soft_wrap=True
        )


class HubGroup(click.Group):
    """The root group: runs the subcommand and turns its HubError into the documented exit."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        use_for_click()  # click's own words (Usage:, Error:, ...) in the user's language
        return super().main(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            error = as_hub_error(exc)
            if error is None:
                raise  # click's own exits and usage errors, and bugs (with their traceback)
            report(error)
            ctx.exit(exit_code(error))


def as_hub_error(exc: Exception) -> errors.HubError | None:
    """The client error `exc` is, or stands for: commands call `pysetl_hub_provenance`
    directly, and its errors get the client's exit codes (a rejected attestation is 9)."""
    if isinstance(exc, errors.HubError):
        return exc
    # Only loaded once a command used it; looked up here so start-up does not import it.
    provenance = sys.modules.get("pysetl_hub_provenance.errors")
    if provenance is not None and isinstance(exc, provenance.ProvenanceError):
        return errors.from_provenance(exc)
    return None


@click.group(cls=HubGroup, context_settings=CONTEXT)
@click.version_option(__version__, prog_name="pysetl-hub")
@click.option("--url", envvar="PYSETL_HUB_URL", help="Hub URL (config `url`).")
@click.option("--token", envvar="PYSETL_HUB_TOKEN", help="API token (better: `login`).")
@click.pass_context
def main(ctx: click.Context, url: str | None, token: str | None) -> None:
    """Find, verify, install and publish PySetl components.

    Tables and progress go to stderr; --json puts data on stdout. Exit codes: 0 ok, 1 refused
    or failed, 2 usage, 3 not found, 4 nothing fits, 5 digest mismatch, 6 installer failed,
    7 hub unreachable, 8 not authorised, 9 signature check failed (docs/client.md).
    """
    ctx.obj = Ctx(url, token)
