"""The README's newcomer path, end to end, with the CLI alone.

`new factory` -> build -> `publish` -> `search` -> `install` into a fresh virtual environment
-> load the factory through its entry point there and run it in a real PySetl pipeline on
local Spark. pysetl, pyspark and their dependencies come from PyPI (the one registry these
machines reach); everything else is local.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.live import LiveServer
from tests.support.parts import missing

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
UV_CACHE = BIN.parent / ".cache" / "uv-e2e"  # in the venv: `make clean` removes it

RUN = """
from pysetl.workflow import Pipeline
from pysetl_hub.plugins import PluginNotFound, factories, load_factory, load_pipeline, pipelines

assert [p.spec for p in pipelines()] == ["nightly-totals:NightlyTotals"], list(pipelines())
assert "row-dedupe:RowDedupe" in [p.spec for p in factories()]
try:
    load_factory("row-dedupe:Nope")
    raise SystemExit("a missing factory loaded")
except PluginNotFound as exc:
    assert "installed: row-dedupe:RowDedupe" in str(exc), exc
RowDedupe = load_factory("row-dedupe:RowDedupe")
out = Pipeline().add_stage_from_factory(RowDedupe()).run().get_last_output()
print(sorted(tuple(r) for r in out.collect()))
NightlyTotals = load_pipeline("nightly-totals:NightlyTotals")
print(sorted(tuple(r) for r in NightlyTotals().run().get_last_output().collect()))
"""


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}"


@pytest.mark.e2e
@pytest.mark.timeout(1500)
def test_newcomer_path(live: LiveServer, tmp_path: Path) -> None:
    if shutil.which("java") is None:
        missing("java (Spark needs a JRE)", "`make test` installs it (openjdk-17-jre-headless)")
    token = live.user_with_token("newcomer")
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "PYSETL_HUB_URL": live.url,
        "PYSETL_HUB_CONFIG": str(tmp_path / "config.toml"),
        "PYSETL_HUB_CACHE_DIR": str(tmp_path / "cache"),
        "NO_COLOR": "1",
        # pyspark is an sdist only (975 MB unpacked). The registry here answers no conditional
        # request, so each uv run unpacks a new revision of it into the cache: 56 runs had
        # filled the disk. This test's uv keeps its own cache, pruned to the live revision.
        "UV_CACHE_DIR": str(UV_CACHE),
    }

    def sh(*args: str | Path, cwd: Path = tmp_path, stdin: str | None = None) -> str:
        proc = subprocess.run(
            [str(a) for a in args], cwd=cwd, env=env, input=stdin, capture_output=True, text=True
        )
        assert proc.returncode == 0, f"{args}\n{proc.stdout}\n{proc.stderr}"
        return proc.stdout

    hub = BIN / "pysetl-hub"
    sh(hub, "login", stdin=token + "\n")
    for kind, name in (("factory", "row-dedupe"), ("pipeline", "nightly-totals")):
        sh(hub, "new", kind, name)
        project = tmp_path / name
        sh(sys.executable, "-m", "build", "--no-isolation", "--outdir", "dist", cwd=project)
        dists = sorted((project / "dist").iterdir())
        published = json.loads(sh(hub, "publish", "--json", *dists))
        assert [p["created"] for p in published] == [True, True]
    hits = json.loads(sh(hub, "search", "row-dedupe", "--json"))["hits"]
    assert hits[0]["name"] == "row-dedupe" and hits[0]["exact"]

    # A fresh environment: PySetl with Spark, and the hub client, from their sources.
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    uv = BIN / "uv"
    sh(uv, "venv", "--no-config", "-q", "-p", sys.executable, venv)
    try:
        sh(uv, "pip", "install", "--no-config", "-q", "--python", python, "pysetl[pyspark]==1.2.1",
           ROOT / "schemas", ROOT / "provenance", ROOT / "client")  # fmt: skip
    finally:
        sh(uv, "cache", "prune", "--no-config", "-q")
    # The venv's own CLI installs the component into its own interpreter.
    sh(venv / "bin" / "pysetl-hub", "install", "row-dedupe", "nightly-totals", "--installer", "uv")
    listed = json.loads(sh(venv / "bin" / "pysetl-hub", "list", "--json"))
    assert [(i["distribution"], i["kinds"], i["hub"]) for i in listed] == [
        ("nightly-totals", ["pipeline"], live.url),
        ("row-dedupe", ["factory"], live.url),
    ]
    out = sh(python, "-c", RUN).strip().splitlines()
    assert out[-2:] == ["[('a', 1), ('b', 2)]", "[('a', 3), ('b', 5)]"]
    shutil.rmtree(venv)  # ~1 GB with Spark; pytest keeps its last three temp trees
