"""`yank` and `unyank`: withdraw a release from resolution (PEP 592), or bring it back."""

from __future__ import annotations

import click

from pysetl_hub.cli.options import Ctx, pass_ctx
from pysetl_hub.cli.output import safe, say
from pysetl_hub.i18n import _


def _yank(ctx: Ctx, name: str, version: str, reason: str | None, undo: bool) -> None:
    with ctx.client() as client:
        r = client.unyank(name, version) if undo else client.yank(name, version, reason or "")
    text = _("{name} {version}: yanked") if r.yanked else _("{name} {version}: not yanked")
    say(text.format(name=safe(r.name), version=safe(r.version)))


@click.command()
@click.argument("name")
@click.argument("version")
@click.option("--reason", default="", help="Shown to installers (PEP 592).")
@pass_ctx
def yank(ctx: Ctx, name: str, version: str, reason: str) -> None:
    """Yank a release: installers skip it unless pinned exactly."""
    _yank(ctx, name, version, reason, undo=False)


@click.command()
@click.argument("name")
@click.argument("version")
@pass_ctx
def unyank(ctx: Ctx, name: str, version: str) -> None:
    """Undo a yank."""
    _yank(ctx, name, version, None, undo=True)


COMMANDS = [yank, unyank]
