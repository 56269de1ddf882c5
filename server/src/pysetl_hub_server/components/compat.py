"""Compatibility: specifiers from core metadata, evaluated against known platform versions."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from pysetl_hub_schemas import PYSETL, PYTHON, SPARK
from pysetl_hub_server.settings import Platforms


def platform_specifier(requires_dist: Iterable[Requirement], name: str) -> str | None:
    """All specifiers a release puts on `name` (pysetl, pyspark), joined; None if unconstrained.

    Requirements behind an extra count too: `pysetl[spark]` style optional dependencies still
    state what the component works with.
    """
    wanted = canonicalize_name(name)
    specs = SpecifierSet()
    found = False
    for req in requires_dist:
        if canonicalize_name(req.name) == wanted:
            found = True
            specs &= req.specifier
    if not found:
        return None
    return str(specs)


@lru_cache(maxsize=4096)
def admits(specifier: str | None, version: str) -> bool:
    """Does a stored specifier admit `version`? No specifier admits everything."""
    if not specifier:
        return True
    try:
        return SpecifierSet(specifier).contains(Version(version), prereleases=True)
    except (InvalidSpecifier, InvalidVersion):
        return False


def evaluate(
    platforms: Platforms,
    *,
    requires_python: str | None,
    pysetl: str | None,
    pyspark: str | None,
) -> dict[str, Any]:
    """The matrix stored with each release (and shown by the API)."""
    return {
        PYTHON: {v: admits(requires_python, v) for v in platforms.python},
        PYSETL: {v: admits(pysetl, v) for v in platforms.pysetl},
        SPARK: {v: admits(pyspark, v) for v in platforms.spark},
    }
