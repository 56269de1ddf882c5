"""The shape of the code: the import graph contract, and the hot path as an outer layer."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
from litestar import Litestar

import pysetl_hub
import pysetl_hub_server
from pysetl_hub_server.app import create_app
from pysetl_hub_server.head import HeadAsGet
from pysetl_hub_server.hotpath import HotPath
from pysetl_hub_server.observability.layer import Observed
from pysetl_hub_server.security.headers import SecurityHeaders
from pysetl_hub_server.security.readonly import ReadOnlyGate
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
    """The hot path is its own ASGI layer around Litestar, not a swap of Litestar internals;
    the security headers and the read-only gate wrap it in turn, so they see its answers too.
    Inside it, HEAD-as-GET (head.py) wraps Litestar."""
    settings = make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}")
    observed = create_app(settings)
    assert isinstance(observed, Observed)  # the request id and latency of every answer
    app = observed.app
    assert isinstance(app, SecurityHeaders)
    assert isinstance(app.app, ReadOnlyGate)
    hot = app.app.app
    assert isinstance(hot, HotPath)
    assert isinstance(hot.app, HeadAsGet)  # a HEAD the app has no route for: its GET, bodiless
    assert isinstance(hot.app.app, Litestar)
    assert not isinstance(hot.app.app.asgi_handler, HotPath)


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


def _contract(name_start: str) -> dict[str, list[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    found = [c for c in config["contracts"] if c["name"].startswith(name_start)]
    assert len(found) == 1, name_start
    contract: dict[str, list[str]] = found[0]
    return contract


def _children(package: object, *, besides: set[str]) -> set[str]:
    names = {m.name for m in pkgutil.iter_modules(package.__path__)}  # type: ignore[attr-defined]
    prefix = package.__name__  # type: ignore[attr-defined]
    return {f"{prefix}.{n}" for n in names - besides}


def test_every_server_domain_is_under_the_composition_root_contract() -> None:
    """A new domain package is covered without anyone remembering to list it."""
    contract = _contract("Server: no domain module imports the composition root")
    top = {"app", "runtime", "cli", "launch", "__main__"}
    assert set(contract["source_modules"]) == _children(pysetl_hub_server, besides=top)


def test_every_client_library_module_is_under_the_no_cli_contract() -> None:
    contract = _contract("Client: the library never imports the CLI")
    assert set(contract["source_modules"]) == _children(pysetl_hub, besides={"cli", "__main__"})


def test_the_hub_is_a_leaf() -> None:
    """Nothing the Hub imports, directly or not, imports the Hub back: no edge runs up.

    Its own imports are the Protocol and value modules listed here, and no implementation.
    """
    graph = grimp.build_graph("pysetl_hub_server", "pysetl_hub_schemas")
    upstream = graph.find_upstream_modules("pysetl_hub_server.hub")
    assert not upstream & graph.find_downstream_modules("pysetl_hub_server.hub")
    assert {m for m in upstream if m.startswith("pysetl_hub_server.")} == {
        "pysetl_hub_server.answers",
        # Leaves: a blob store's outage is a domain error (503), written with the messages.
        "pysetl_hub_server.errors",
        "pysetl_hub_server.i18n.catalogs",
        "pysetl_hub_server.lru",  # a leaf: the byte-budget memory and its CacheStats
        "pysetl_hub_server.i18n.messages",
        "pysetl_hub_server.faults",
        "pysetl_hub_server.search.answers",  # a leaf: kept search answers (the engine port)
        "pysetl_hub_server.search.engine",
        "pysetl_hub_server.security.secrets",  # a leaf: settings read `*_FILE` secrets with it
        "pysetl_hub_server.settings",
        "pysetl_hub_server.settings_sections",  # a leaf: the feed and flag sections of settings
        "pysetl_hub_server.storage.blobs",
        "pysetl_hub_server.storage.sweep",  # a leaf: the file claims the local blob store makes
    }
