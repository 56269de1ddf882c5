"""The shape of the code: the import graph contract, and the hot path as an outer layer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from litestar import Litestar

from pysetl_hub_server.app import create_app
from pysetl_hub_server.hotpath import HotPath
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[1]


def test_import_graph_contracts_hold() -> None:
    """schemas <- provenance <- {client, server}; domain modules never import app/runtime/cli.

    The contracts live in pyproject.toml ([tool.importlinter]) and list no exceptions.
    """
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
    assert "ignore_imports" not in (ROOT / "pyproject.toml").read_text()


def test_hot_path_wraps_the_app_from_outside(tmp_path: Path) -> None:
    """The hot path is its own ASGI layer around Litestar, not a swap of Litestar internals."""
    settings = make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}")
    app = create_app(settings)
    assert isinstance(app, HotPath)
    assert isinstance(app.app, Litestar)
    assert not isinstance(app.app.asgi_handler, HotPath)


def test_distributions_declare_the_graph() -> None:
    """The server's and client's declared dependencies match the import graph."""
    server = (ROOT / "server/pyproject.toml").read_text()
    client = (ROOT / "client/pyproject.toml").read_text()
    provenance = (ROOT / "provenance/pyproject.toml").read_text()
    schemas = (ROOT / "schemas/pyproject.toml").read_text()
    assert '"pysetl-hub-provenance"' in server and '"pysetl-hub"' not in server
    assert '"pysetl-hub-provenance"' in client and '"pysetl-hub-server"' not in client
    assert '"pysetl-hub-schemas"' in provenance and '"pysetl-hub"' not in provenance
    assert "pysetl-hub" not in schemas.split("dependencies", 1)[1].split("]", 1)[0]
