"""`new`: scaffold a component project, ready to build, test and publish."""

from __future__ import annotations

from pathlib import Path

import click

from pysetl_hub.cli.options import KINDS
from pysetl_hub.cli.output import safe, say
from pysetl_hub.i18n import _


@click.command()
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("name")
@click.option(
    "--dir",
    "parent",
    type=click.Path(path_type=Path),
    default=Path("."),
    show_default=True,
    help="Directory to create the project in.",
)
def new(kind: str, name: str, parent: Path) -> None:
    """Scaffold a component project: pyproject, code, a test, README and a CI workflow."""
    from pysetl_hub.scaffold import scaffold

    root = scaffold(kind, name, parent)
    say(_("[green]created[/] {path}").format(path=safe(root)))
    say(
        _("next: cd {path} && python -m build && pysetl-hub publish dist/*").format(path=safe(root))
    )


COMMANDS = [new]
