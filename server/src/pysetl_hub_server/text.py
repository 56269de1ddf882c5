"""What counts as text: the one rule for every string a user gives the hub to show others.

Metadata fields, yank reasons and whatever comes next are served as data and shown on pages
and terminals. A control character can rewrite a terminal, a bidirectional override can make
a one-line label read as something else; neither belongs in text.
"""

from __future__ import annotations

# Embeddings, overrides and isolates: they reorder what a one-line label displays.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def forbidden_character(text: str, *, multiline: bool) -> str | None:
    """The first character `text` may not hold, or None. Tabs are text; line and page breaks
    are text only in blocks (a README, a license), bidirectional overrides only there too."""
    for c in text:
        code = ord(c)
        if c == "\t":
            continue
        if c in "\n\r\f\v":
            if not multiline:
                return c
            continue
        if code < 0x20 or 0x7F <= code < 0xA0 or (not multiline and c in BIDI_CONTROLS):
            return c
    return None


def describe(c: str) -> str:
    """`U+202E, a bidirectional override`: for error details."""
    what = "bidirectional override" if c in BIDI_CONTROLS else "control character"
    return f"U+{ord(c):04X}, a {what}"
