"""`pysetl-hub`: find, install, publish and manage PySetl components.

One module per command group; `group.HubGroup` turns every library error into `error:` and
`hint:` lines and the exit code docs/client.md documents. Human output (tables, progress) goes
to stderr, so stdout carries only data (`--json`). Modules import click and little else at the
top: the HTTP client, Rich and Sigstore are imported by the commands that use them, which keeps
`pysetl-hub --help` fast.
"""

from __future__ import annotations

from pysetl_hub.cli import (
    account,
    audit,
    events,
    flags,
    governance,
    install,
    lock,
    publish,
    publishers,
    scaffold,
    search,
    stats,
    tokens,
    yank,
)
from pysetl_hub.cli.group import main
from pysetl_hub.cli.localize import localize

for _module in (
    account,
    audit,
    events,
    flags,
    governance,
    install,
    lock,
    publish,
    publishers,
    scaffold,
    search,
    stats,
    tokens,
    yank,
):
    for _command in _module.COMMANDS:
        main.add_command(_command)
localize(main)  # every command's and option's help in the user's language

__all__ = ["main"]
