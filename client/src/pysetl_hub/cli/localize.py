"""Commands' and options' help in the user's language.

click shows a command's docstring (or `help=`) and each option's `help=` as they are written;
`localize` gives every command and option of the tree a class that looks its text up in the
`cli` catalog when the help is shown, so the source keeps English msgids. The msgids are
extracted by `help_extract.py` (client/babel.cfg), cleaned as click cleans them
(`inspect.cleandoc`). Nothing is looked up at start-up: `pysetl-hub --help` stays fast.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from pysetl_hub.i18n import _

T = TypeVar("T")
_CLASSES: dict[type[Any], type[Any]] = {}


def translated(text: str | None) -> str | None:
    """`text` (a docstring or a `help=`) in the user's language."""
    return None if text is None else _(inspect.cleandoc(text))


@contextmanager
def _shown(obj: object, *names: str) -> Iterator[None]:
    """While click formats it: `obj`'s texts translated, then the msgids again (a later call
    may run in another language: tests set LANG in one process)."""
    saved = {name: getattr(obj, name) for name in names}
    try:
        for name, value in saved.items():
            setattr(obj, name, translated(value))
        yield
    finally:
        for name, value in saved.items():
            setattr(obj, name, value)


class LocalizedCommand(click.Command):
    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with _shown(self, "help"):
            super().format_help_text(ctx, formatter)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with _shown(self, "epilog"):
            super().format_epilog(ctx, formatter)

    def get_short_help_str(self, limit: int = 45) -> str:
        with _shown(self, "help", "short_help"):
            return super().get_short_help_str(limit)


class LocalizedOption(click.Option):
    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        with _shown(self, "help"):
            return super().get_help_record(ctx)


def _with(obj: object, mixin: type[Any]) -> None:
    cls = type(obj)
    if not issubclass(cls, mixin):
        if cls not in _CLASSES:
            _CLASSES[cls] = type(cls.__name__, (mixin, cls), {"__module__": cls.__module__})
        obj.__class__ = _CLASSES[cls]


def localize(command: click.Command) -> None:
    """`command`, its options and its subcommands show their help translated."""
    _with(command, LocalizedCommand)
    for param in command.params:
        if isinstance(param, click.Option):
            _with(param, LocalizedOption)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            localize(sub)
