"""Real clients against a real server process: twine uploads, pip and uv install.

The server runs as `pysetl-hub-server serve` in a subprocess on a free loopback port, set up
with the same CLI an operator uses (tests/interop/conftest.py). pip runs with --isolated and uv
without config so only this hub answers (the machine's global pip config points at other
indexes): tests/support/clients.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

from tests.support.clients import ServerProcess, pip, twine, uv
from tests.support.dists import repack

pytestmark = pytest.mark.interop


@pytest.fixture(scope="module")
def uploaded(
    server: ServerProcess, example_dists: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> ServerProcess:
    files = [
        example_dists[k]
        for k in (
            "csv-dedupe:wheel",
            "csv-dedupe:sdist",
            "daily-sales-pipeline:wheel",
            "daily-sales-pipeline:sdist",
        )
    ]
    result = twine(server, *files)
    assert result.returncode == 0, result.stdout + result.stderr
    # 1.1.0 is published and then yanked.
    newer = repack(
        example_dists["csv-dedupe:wheel"], tmp_path_factory.mktemp("newer"), version="1.1.0"
    )
    assert twine(server, newer).returncode == 0
    r = httpx.post(
        f"{server.url}/api/v1/components/csv-dedupe/1.1.0/yank",
        json={"reason": "broken"},
        headers={"Authorization": f"Bearer {server.token}"},
    )
    assert r.status_code == 200, r.text
    return server


def test_twine_reports_rule_violations(
    server: ServerProcess, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    def no_eps(m: dict[str, bytes]) -> None:
        del m[next(k for k in m if k.endswith("entry_points.txt"))]

    bad = repack(example_dists["csv-dedupe:wheel"], tmp_path, name="not-a-component", mutate=no_eps)
    result = twine(server, bad)
    assert result.returncode != 0
    assert "400" in result.stdout + result.stderr


def test_twine_skip_existing_and_reupload(
    uploaded: ServerProcess, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    result = twine(uploaded, example_dists["csv-dedupe:wheel"])
    assert result.returncode == 0, result.stderr  # same bytes again: a no-op
    # Other bytes under a published filename: refused (409), which --skip-existing skips.
    other = repack(
        example_dists["csv-dedupe:wheel"],
        tmp_path,
        mutate=lambda m: m.__setitem__("csv_dedupe/extra.py", b"# other bytes\n"),
    )
    assert other.name == example_dists["csv-dedupe:wheel"].name
    refused = twine(uploaded, other)
    assert refused.returncode != 0 and "409" in refused.stdout + refused.stderr
    # twine 6 allows --skip-existing only against PyPI and TestPyPI, whatever the index says;
    # `pysetl-hub publish --skip-existing` is the way to skip (tests/client/test_cli.py).
    skipped = twine(uploaded, other, options=("--skip-existing",))
    assert skipped.returncode != 0
    assert "--skip-existing" in skipped.stdout + skipped.stderr


def test_pip_installs_from_the_hub(uploaded: ServerProcess, tmp_path: Path) -> None:
    target = tmp_path / "t"
    result = pip(
        "install",
        "--index-url",
        f"{uploaded.url}/simple/",
        "--no-deps",
        "--target",
        str(target),
        "csv-dedupe",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    infos = sorted(p.name for p in target.glob("*.dist-info"))
    assert infos == ["csv_dedupe-1.0.0.dist-info"]  # 1.1.0 is yanked
    assert (target / "csv_dedupe" / "__init__.py").exists()


def test_uv_installs_from_the_hub(uploaded: ServerProcess, tmp_path: Path) -> None:
    target = tmp_path / "t"
    result = uv(
        *("pip", "install", "--python", sys.executable, "--no-deps"),
        *("--index-url", f"{uploaded.url}/simple/", "--target", str(target)),
        "daily-sales-pipeline",
        cache=tmp_path / "uv-cache",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.name for p in target.glob("*.dist-info")) == [
        "daily_sales_pipeline-0.3.0.dist-info"
    ]


def test_pip_download_needs_an_exact_pin_for_a_yanked_release(
    uploaded: ServerProcess, tmp_path: Path
) -> None:
    index = ["--index-url", f"{uploaded.url}/simple/", "--no-deps", "--only-binary", ":all:"]
    plain = pip("download", *index, "-d", str(tmp_path / "a"), "csv-dedupe")
    assert plain.returncode == 0, plain.stderr
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["csv_dedupe-1.0.0-py3-none-any.whl"]
    ranged = pip("download", *index, "-d", str(tmp_path / "b"), "csv-dedupe>=1.1")
    assert ranged.returncode != 0
    pinned = pip("download", *index, "-d", str(tmp_path / "c"), "csv-dedupe==1.1.0")
    assert pinned.returncode == 0, pinned.stderr
    assert [p.name for p in (tmp_path / "c").iterdir()] == ["csv_dedupe-1.1.0-py3-none-any.whl"]
    assert "yanked" in (pinned.stdout + pinned.stderr).lower()
