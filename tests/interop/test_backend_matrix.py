"""The build-backend compatibility matrix: every cell is one backend version x {wheel, sdist}.

Each cell's file (built by tests/support/matrix.py, cached under build/backend-matrix/) is uploaded
to one live hub with the real twine, then installed from that hub with pip and with uv into
throwaway targets; the installed distribution must carry the cell's version and its PySetl entry
point. An sdist is built by the installer itself, with the backend its pyproject pins: the hub is
the only index, and a local directory of the backend's wheels stands in for PyPI's build
dependencies, so the component can only have come from the hub.

The table (backend x file x twine/pip/uv) is printed at the end of the run and written to
build/backend-matrix/matrix.md.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from packaging.utils import canonicalize_name

from pysetl_hub_schemas import FACTORIES
from tests.support.clients import ServerProcess, pip, twine, uv
from tests.support.matrix import (
    CACHE,
    CELLS,
    Built,
    Cell,
    GitMissing,
    Row,
    build_all,
    core_metadata,
    describe,
    render,
    step,
)
from tests.support.parts import missing
from tests.support.upload import problem, upload

# The first cell's setup builds every cell of a clean clone (about a minute on an idle machine):
# room for that on a loaded one.
pytestmark = [pytest.mark.interop, pytest.mark.timeout(600)]
KINDS = ("wheel", "sdist")
ENTRY_POINT = "Probe = pysetl_matrix_probe:ProbeFactory"
HOMEPAGE = "https://example.org/pysetl/matrix-probe"
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"


class HubRefused(Exception):
    """The hub answered twine's upload with a 4xx."""


@pytest.fixture(scope="module")
def builds(request: pytest.FixtureRequest) -> dict[str, Built | Exception]:
    """The selected cells' builds, made (or taken from the cache) together, in parallel."""
    selected = {
        item.callspec.params["cell"]
        for item in request.session.items
        if isinstance(item, pytest.Function)
        and item.module is request.module
        and hasattr(item, "callspec")
    }
    return build_all(c for c in CELLS if c in selected)


@pytest.fixture(scope="module")
def matrix(request: pytest.FixtureRequest) -> Iterator[dict[tuple[str, str], Row]]:
    rows: dict[tuple[str, str], Row] = {}
    yield rows
    order = [(c.id, k) for c in CELLS for k in KINDS]
    table = render(rows[key] for key in order if key in rows)
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / "matrix.md").write_text(table)  # tests/conftest.py prints it at the end


def _members(path: Path) -> list[str]:
    if path.name.endswith(".whl"):
        with zipfile.ZipFile(path) as zf:
            return zf.namelist()
    with tarfile.open(path) as tar:
        return tar.getnames()


def _installed(target: Path) -> tuple[str, str, list[str]]:
    dists = list(importlib.metadata.distributions(path=[str(target)]))
    assert len(dists) == 1, [d.metadata["Name"] for d in dists]
    dist = dists[0]
    eps = [f"{ep.name} = {ep.value}" for ep in dist.entry_points if ep.group == FACTORIES]
    assert (target / "pysetl_matrix_probe" / "__init__.py").is_file()
    return canonicalize_name(dist.metadata["Name"]), dist.version, eps


def _refusal(server: ServerProcess, path: Path) -> tuple[int, str, str]:
    """twine prints only the status line: ask again with the same form for the problem body."""
    with httpx.Client(base_url=server.url, timeout=60) as client:
        response = upload(client, server.token, path)
    if response.status_code < 400:
        return response.status_code, "-", response.text[:200]
    body = problem(response)
    return response.status_code, str(body.get("code")), str(body.get("detail"))


@pytest.mark.parametrize(
    ("cell", "kind"),
    [pytest.param(c, k, id=f"{c.id}-{k}") for c in CELLS for k in KINDS],
)
def test_cell(
    cell: Cell,
    kind: str,
    builds: dict[str, Built | Exception],
    server: ServerProcess,
    matrix: dict[tuple[str, str], Row],
    tmp_path: Path,
) -> None:
    row = matrix.setdefault((cell.id, kind), Row(cell, kind))
    built = builds[cell.id]
    if isinstance(built, GitMissing):
        missing("git", "the setuptools-scm cells tag a throwaway repository (apt-get install git)")
    if isinstance(built, Exception):
        row.build = "FAILED"
        raise built
    path = built.wheel if kind == "wheel" else built.sdist
    row.filename = path.name
    row.build = f"built in {built.seconds:.0f}s" if built.seconds else "cached"

    # What the backend wrote: the README's content type, and the LICENSE file shipped.
    metadata = core_metadata(path)
    row.metadata = describe(metadata)
    assert canonicalize_name(metadata["Name"]) == cell.name
    assert metadata["Version"] == cell.version
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert any(m.rsplit("/", 1)[-1] == "LICENSE" for m in _members(path))

    with step(row, "twine upload"):
        result = twine(server, path)
        if result.returncode != 0:
            twine_said = f"twine: {result.stdout[-2000:]}{result.stderr[-2000:]}"
            status, code, detail = _refusal(server, path)
            assert status >= 400, f"twine failed, the same form got {status}\n{twine_said}"
            row.steps["twine upload"] = f"REFUSED {status} {code}"
            raise HubRefused(
                f"the hub refused {path.name}: {status} {code}: {detail}\n{twine_said}"
            )
        listing = httpx.get(
            f"{server.url}/simple/{cell.name}/", headers={"Accept": SIMPLE_JSON}, timeout=30
        )
        assert listing.status_code == 200, listing.text
        served = {f["filename"]: f["hashes"]["sha256"] for f in listing.json()["files"]}
        # Served under the one normalized spelling (setuptools < 69.3 wrote name-with-dashes-...)
        stored = cell.name.replace("-", "_") + path.name[len(cell.name) :]
        assert served.get(stored) == hashlib.sha256(path.read_bytes()).hexdigest(), served
        # What the hub read from this backend's metadata, legacy fields included.
        answer = httpx.get(f"{server.url}/api/v1/components/{cell.name}/{cell.version}")
        assert answer.status_code == 200, answer.text
        release = answer.json()
        assert release["kinds"] == ["factory"]
        assert [f"{e['name']} = {e['value']}" for e in release["entry_points"]] == [ENTRY_POINT]
        assert release["license"] == "MIT"
        assert release["project_urls"]["Homepage"] == HOMEPAGE
        assert release["description_content_type"] == "text/markdown"
        assert release["description"].startswith("# pysetl-matrix-probe")

    spec = f"{cell.name}=={cell.version}"
    index = ["--index-url", f"{server.url}/simple/", "--no-deps"]
    if kind == "wheel":
        formats = ["--only-binary", ":all:"]
    else:  # the installer builds the sdist, with the pinned backend from a local directory
        formats = ["--no-binary", cell.name, "--find-links", str(built.backend_wheels)]
    expected = (cell.name, cell.version, [ENTRY_POINT])

    with step(row, "pip install"):
        target = tmp_path / "pip"
        result = pip("install", "--no-cache-dir", *index, *formats, "--target", str(target), spec)
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"{server.url}/" in result.stdout  # pip names what it fetched, and from where
        assert _installed(target) == expected

    with step(row, "uv install"):
        target = tmp_path / "uv"
        result = uv(
            *("pip", "install", "--python", sys.executable, *index, *formats),
            *("--target", str(target), spec),
            cache=tmp_path / "uv-cache",
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert _installed(target) == expected
