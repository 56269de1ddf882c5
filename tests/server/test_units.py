"""Sizes in server messages read as people write them."""

from __future__ import annotations

import pytest

from pysetl_hub_server.units import human_size


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 bytes"),
        (1, "1 byte"),
        (1023, "1023 bytes"),
        (1024, "1 KiB"),
        (1536, "1.5 KiB"),
        (52428800, "50 MiB"),
        (100 * 1024**3, "100 GiB"),
        (5 * 1024**5, "5120 TiB"),
    ],
)
def test_human_size(n: int, text: str) -> None:
    assert human_size(n) == text
