"""A real part a test needs (PostgreSQL, a JRE) that is not on this machine: a skip that names
the fix on a developer's laptop, a failure under CI=true, where `make test` installs it."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def missing(what: str, fix: str) -> NoReturn:
    message = f"{what} is not installed: {fix}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and a real part is missing: {message}")  # never a silent skip
    pytest.skip(message)
