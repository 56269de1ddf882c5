"""What the CLI prints: human text on stderr through Rich, data on stdout.

Rich is imported and its Console built on the first print, not at start-up, so `--help` does
not pay for it. Every text that came from a package or the hub (names, summaries, URLs, yank
reasons, the installer's output) goes through `safe` before it reaches the terminal.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import click

from pysetl_hub.i18n import _

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

_CONSOLE = "pysetl_hub.console"
_FALLBACK: dict[str, Any] = {}  # outside a click run (library callers of these helpers)

# Bidirectional overrides and isolates reorder what the eye reads (CVE-2021-42574).
_BIDI = (0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_NEUTRAL: dict[int, str] = {
    **{c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))},
    **{c: f"\\u{c:04x}" for c in _BIDI},
    ord("\t"): " ",
    ord("\n"): " ",
    ord("\r"): " ",
}
_NEUTRAL_LINES = {**_NEUTRAL, ord("\n"): "\n"}


def safe(text: object, *, lines: bool = False) -> str:
    """`text` fit for the terminal and for Rich markup.

    Control characters (ESC, BEL, C1 such as CSI) are shown as `\\xNN` and bidi controls as
    `\\uNNNN`, so a summary cannot set the window title, clear the screen or reorder a line;
    Rich markup is escaped, so `[bold]` in a summary prints as written. Newlines become spaces
    unless `lines` (multi-line error messages keep theirs).
    """
    from rich.markup import escape

    return escape(str(text).translate(_NEUTRAL_LINES if lines else _NEUTRAL))


def err() -> Console:
    """The stderr Console of this run, made on first use (it reads NO_COLOR and COLUMNS then)."""
    ctx = click.get_current_context(silent=True)
    store: dict[str, Any] = ctx.find_root().meta if ctx is not None else _FALLBACK
    console: Console | None = store.get(_CONSOLE)
    if console is None:
        from rich.console import Console

        console = store[_CONSOLE] = Console(stderr=True, highlight=False, emoji=False)
    return console


def say(message: str) -> None:
    """A line on stderr; `message` is Rich markup: wrap anything from outside in `safe()`."""
    err().print(message, soft_wrap=True)


def warn(message: str) -> None:
    """A warning on stderr; the message is plain text (it may quote a package's metadata)."""
    text = _("[yellow]warning:[/] {message}").format(message=safe(message, lines=True))
    err().print(text, soft_wrap=True)


def emit_json(data: Any) -> None:
    """Machine-readable output: JSON on stdout (control characters come out escaped)."""
    import msgspec

    sys.stdout.write(msgspec.json.encode(data).decode() + "\n")


def table(*columns: str, title: str | None = None) -> Table:
    """A Rich table with these column headings; cells are markup, so pass them `safe()`."""
    from rich.table import Table

    result = Table(title=title, title_justify="left")
    for column in columns:
        result.add_column(column)
    return result


def show(renderable: Any) -> None:
    err().print(renderable)


def size(n: int) -> str:
    """Bytes in binary units, as people read them: 50 MiB, 1.5 KiB, 812 B."""
    value, unit = float(n), "B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            break
        value /= 1024
    if unit == "B":
        return f"{n} B"
    return f"{value:.1f}".removesuffix(".0") + f" {unit}"


def count(n: int, noun: str) -> str:
    """`1 component`, `2 components`."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def joined(items: Iterable[object]) -> str:
    """Items from a package, made safe and comma-separated."""
    return ", ".join(safe(i) for i in items)


def transfer_bar() -> Progress:
    """A transient progress bar for downloads and uploads, in binary units (drawn on a
    terminal only: elsewhere Rich would leave a blank line behind)."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        ProgressColumn,
        Task,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class Speed(ProgressColumn):
        """Rich's TransferSpeedColumn counts in kB; this one in KiB, as the sizes beside it."""

        def render(self, task: Task) -> Text:
            speed = task.finished_speed or task.speed
            shown = "?" if speed is None else f"{size(int(speed))}/s"
            return Text(shown, style="progress.data.speed")

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(binary_units=True),
        Speed(),
        TimeRemainingColumn(),
        console=err(),
        transient=True,
        disable=not err().is_terminal,
    )


def activity() -> Progress:
    """A transient live line: what is happening and for how long (for pip and uv); drawn on
    a terminal only."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err(),
        transient=True,
        disable=not err().is_terminal,
    )
