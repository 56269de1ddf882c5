"""Names every part shares, written out once: the entry-point groups that make a distribution a
component, and the platform axes compatibility is judged on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

from pysetl_hub_schemas.components import Kind

FACTORIES: Final = "pysetl.factories"
PIPELINES: Final = "pysetl.pipelines"
# Entry-point group -> the component kind it declares.
GROUPS: Final[Mapping[str, Kind]] = {FACTORIES: "factory", PIPELINES: "pipeline"}
KINDS: Final[tuple[Kind, ...]] = tuple(GROUPS.values())

Platform = Literal["python", "pysetl", "spark"]
PYTHON: Final = "python"
PYSETL: Final = "pysetl"
SPARK: Final = "spark"
# The axes, in the order tables and matrices show them.
PLATFORMS: Final[tuple[Platform, ...]] = (PYTHON, PYSETL, SPARK)
# The distribution whose Requires-Dist specifier fixes each axis (Python has Requires-Python).
PYSETL_DIST: Final = "pysetl"
SPARK_DIST: Final = "pyspark"
PLATFORM_DISTS: Final[Mapping[str, str]] = {PYSETL: PYSETL_DIST, SPARK: SPARK_DIST}
