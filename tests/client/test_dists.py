"""Reading a dist before publishing: as lenient and as strict as the hub."""

from __future__ import annotations

from pathlib import Path

import pytest

from pysetl_hub.dists import DistError, open_dist
from tests.support.dists import Members, repack


def _metadata(version: bytes, *, python: bytes = b">=3.9") -> object:
    def mutate(m: Members) -> None:
        key = next(k for k in m if k.endswith("METADATA"))
        _, _, rest = m[key].partition(b"\n")
        rest = rest.replace(b"Requires-Python: >=3.9", b"Requires-Python: " + python)
        m[key] = b"Metadata-Version: " + version + b"\nLicense-File: LICENSE\n" + rest

    return mutate


def test_license_file_under_metadata_2_1_is_read(
    example_dists: dict[str, Path], tmp_path: Path
) -> None:
    wheel = repack(example_dists["csv-dedupe:wheel"], tmp_path, mutate=_metadata(b"2.1"))  # type: ignore[arg-type]
    dist = open_dist(wheel)
    assert dist.name == "csv-dedupe" and dist.metadata.license_files == ["LICENSE"]


def test_an_invalid_value_is_still_refused_by_name(
    example_dists: dict[str, Path], tmp_path: Path
) -> None:
    mutate = _metadata(b"2.1", python=b">=three")
    wheel = repack(example_dists["csv-dedupe:wheel"], tmp_path, mutate=mutate)  # type: ignore[arg-type]
    with pytest.raises(DistError, match="requires-python") as err:
        open_dist(wheel)
    assert "introduced in" not in str(err.value)
