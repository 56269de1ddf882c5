"""The CLI's output helpers: the sanitiser every outside text goes through, sizes, counts."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from pysetl_hub.cli.output import count, safe, size


def rendered(markup: str) -> str:
    """What a terminal would receive (Rich believes it writes to one, without colours)."""
    out = io.StringIO()
    Console(file=out, force_terminal=True, color_system=None, emoji=False, width=80).print(
        markup, soft_wrap=True
    )
    return out.getvalue()


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b]0;title\x07", "\\x1b]0;title\\x07"),
        ("\x1b[2J", "\\x1b[2J"),
        ("csi \x9b31m", "csi \\x9b31m"),
        ("rtl \u202eevil", "rtl \\u202eevil"),
        ("[bold]loud[/bold]", "\\[bold]loud\\[/bold]"),
        ("two\nlines\ttab", "two lines tab"),
        ("plain text, ünïcödé ✓", "plain text, ünïcödé ✓"),
    ],
)
def test_safe(raw: str, shown: str) -> None:
    assert safe(raw) == shown


def test_safe_keeps_newlines_when_asked() -> None:
    assert safe("a\nb\x1b", lines=True) == "a\nb\\x1b"


@given(st.text())
def test_nothing_raw_reaches_the_terminal(text: str) -> None:
    """Whatever a package says, the terminal gets no control character but the final newline,
    and no bidi control, and Rich markup in it is printed, not applied."""
    out = rendered(safe(text))
    assert out.endswith("\n")
    assert not [c for c in out[:-1] if ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0], repr(out)
    assert not set(out) & {"\u202e", "\u202d", "\u2066", "\u2067", "\u2068", "\u2069"}


def test_markup_prints_as_written() -> None:
    assert rendered(safe("[bold red]x[/] [link=https://evil]y[/link]")) == (
        "[bold red]x[/] [link=https://evil]y[/link]\n"
    )


@pytest.mark.parametrize(
    ("n", "text"),
    [(0, "0 B"), (812, "812 B"), (1536, "1.5 KiB"), (52428800, "50 MiB"), (3 << 30, "3 GiB")],
)
def test_size(n: int, text: str) -> None:
    assert size(n) == text


def test_count() -> None:
    assert (count(1, "component"), count(2, "component")) == ("1 component", "2 components")
