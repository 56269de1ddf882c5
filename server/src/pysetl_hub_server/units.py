"""Sizes in messages people read: binary units, as the CLI shows them (50 MiB, not 52428800)."""

from __future__ import annotations

_UNITS = ("bytes", "KiB", "MiB", "GiB", "TiB")


def human_size(n: int) -> str:
    """`52428800` -> `50 MiB`, `1536` -> `1.5 KiB`, `999` -> `999 bytes`."""
    size = float(n)
    for unit in _UNITS:
        if abs(size) < 1024 or unit == _UNITS[-1]:
            if unit == "bytes":
                return f"{int(size)} bytes" if n != 1 else "1 byte"
            text = f"{size:.1f}".rstrip("0").rstrip(".")
            return f"{text} {unit}"
        size /= 1024
    raise AssertionError("unreachable")  # pragma: no cover
