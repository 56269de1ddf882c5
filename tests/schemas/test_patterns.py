"""Name and digest patterns end at the end of the string: Python's `$` also matches before a
final newline, so `"acme\n"` passed as a second spelling of `acme` (a look-alike)."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from pysetl_hub_schemas.base import ComponentName, Sha256
from pysetl_hub_schemas.governance import OrgName

DIGEST = "a" * 64


@pytest.mark.parametrize(
    ("kind", "good"),
    [(OrgName, "acme"), (ComponentName, "csv-dedupe"), (Sha256, DIGEST)],
    ids=["org", "component", "sha256"],
)
def test_a_final_newline_is_refused(kind: Any, good: str) -> None:
    assert msgspec.convert(good, kind) == good
    for bad in (good + "\n", good + "\r\n", "\n" + good):
        with pytest.raises(msgspec.ValidationError):
            msgspec.convert(bad, kind)
