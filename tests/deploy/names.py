"""The `PYSETL_HUB_*` variables the server reads, found by running `Settings.from_env` and
recording every name it looks up (so a variable read only on some branch, or through
`secret_from_env`'s `*_FILE` form, counts; a name in a comment does not)."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

from pysetl_hub_server import settings as settings_module


class _Recording(dict[str, str]):
    """The copy of the environment `from_env` makes (`dict(env)`), noting each name asked."""

    seen: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.seen.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.seen.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.seen.add(key)
        return super().__contains__(key)


@cache
def settings_variables() -> frozenset[str]:
    """Every variable `Settings.from_env` reads, secrets in both forms (`X` and `X_FILE`)."""
    _Recording.seen = set()
    with pytest.MonkeyPatch.context() as patch:
        # from_env copies its mapping with dict(); the copy is the recorder.
        patch.setattr(settings_module, "dict", _Recording, raising=False)
        settings_module.Settings.from_env({})
    seen = frozenset(_Recording.seen)
    # If from_env stops copying with dict(), nothing is recorded: say so, never pass on empty.
    assert {"PYSETL_HUB_DATA_DIR", "PYSETL_HUB_DATABASE_URL_FILE"} <= seen, (
        "recording the settings' reads found nothing: Settings.from_env no longer copies its "
        "environment with dict(); update tests/deploy/names.py"
    )
    return seen
