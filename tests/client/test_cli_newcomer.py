"""What a new user ran into: tokens saved unchecked, exit codes that disagreed with the docs,
an HTTP status nobody received, silent installs, a package's escape codes reaching the
terminal, doubled warnings and `match(es)`. Each test failed on the code before the fix."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from pysetl_hub.config import Config
from pysetl_hub.install import Installed
from pysetl_hub_server.db.models import Release
from pysetl_hub_server.hub import Hub
from tests.client.test_install import venv_python
from tests.support.dists import repack
from tests.support.live import LiveServer
from tests.support.upload import upload

# -- login checks the token; whoami -----------------------------------------------------------


def test_login_refuses_a_token_the_hub_does_not_know(run, config: Config) -> None:  # type: ignore[no-untyped-def]
    r = run("login", "--token", "not-a-token")
    assert r.exit_code == 8, r.stderr
    assert "not a PySetl Hub token" in r.stderr and "hint:" in r.stderr
    assert "not saved" in r.stderr and "token saved" not in r.stderr
    assert not config.path.exists() or "tokens" not in tomllib.loads(config.path.read_text())
    r = run("login", "--token", "pshub_0123456789abcdef_" + "x" * 43)
    assert r.exit_code == 8 and "invalid" in r.stderr


def test_login_names_the_user_and_whoami_shows_the_token(  # type: ignore[no-untyped-def]
    run, config: Config, live: LiveServer
) -> None:
    token = live.user_with_token("alice", component="csv-dedupe", expires_days=30)
    r = run("login", "--token", token)
    assert r.exit_code == 0, r.stderr
    assert "as alice" in r.stderr
    assert tomllib.loads(config.path.read_text())["tokens"] == {config.url: token}
    me = json.loads(run("whoami", "--json").stdout)
    assert me["username"] == "alice" and me["token"]["component"] == "csv-dedupe"
    assert me["token"]["id"] == token.split("_")[1] and me["token"]["expires"]
    r = run("whoami")
    assert r.exit_code == 0, r.stderr
    assert "alice" in r.stderr and "only csv-dedupe" in r.stderr and "in 30 days" in r.stderr
    assert token.split("_", 2)[2] not in r.stderr  # never the secret


def test_whoami_without_a_token_sends_nothing_and_claims_no_status(run) -> None:  # type: ignore[no-untyped-def]
    r = run("whoami")
    assert r.exit_code == 8
    assert "needs an API token" in r.stderr and "HTTP" not in r.stderr
    assert "pysetl-hub login" in r.stderr


def test_publish_without_a_token_claims_no_http_status(  # type: ignore[no-untyped-def]
    run, example_dists: dict[str, Path]
) -> None:
    r = run("publish", str(example_dists["csv-dedupe:wheel"]))
    assert r.exit_code == 8
    assert "needs an API token, and none is configured" in r.stderr
    assert "HTTP 401" not in r.stderr and "hint:" in r.stderr


# -- exit codes as docs/client.md says --------------------------------------------------------


def test_a_name_not_on_the_hub_is_not_found(run) -> None:  # type: ignore[no-untyped-def]
    for command in ("install", "download"):
        r = run(command, "does-not-exist", "--dry-run" if command == "install" else "--no-deps")
        assert r.exit_code == 3, (command, r.stderr)
        assert "does-not-exist is not on this hub" in r.stderr


def test_an_unparsable_requirement_is_a_usage_error(run) -> None:  # type: ignore[no-untyped-def]
    r = run("install", "row-dedupe>=1,<", "--dry-run")
    assert r.exit_code == 2, r.stderr
    assert "is not a valid requirement" in r.stderr
    assert "PEP 508" in r.stderr and "relax the version specifier" not in r.stderr


# -- install shows progress; --quiet hides it --------------------------------------------------


def test_install_streams_the_installer_and_quiet_hides_it(  # type: ignore[no-untyped-def]
    run, tmp_path: Path
) -> None:
    python = venv_python(tmp_path / "venv", with_pip=False)
    args = ("install", "csv-dedupe", "--python", python, "--no-deps", "--installer", "uv")
    r = run(*args)
    assert r.exit_code == 0, r.stderr
    assert "installing with uv" in r.stderr  # not a terminal: one line for the live one
    assert "+ csv-dedupe==1.0.0" in r.stderr  # uv's own line, streamed
    assert "installed csv-dedupe 1.0.0" in r.stderr
    r = run("uninstall", "csv-dedupe", "--python", python, "--installer", "uv")
    assert r.exit_code == 0, r.stderr
    r = run(*args, "-q")
    assert r.exit_code == 0, r.stderr
    assert (
        r.stderr.strip()
        == "warning: csv_dedupe-1.0.0-py3-none-any.whl is unsigned: who built it cannot be verified"
    )


def test_installer_failure_keeps_its_output(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    python = venv_python(tmp_path / "nopip", with_pip=False)
    r = run("install", "csv-dedupe", "--python", python, "--no-deps", "--installer", "pip", "-q")
    assert r.exit_code == 6
    assert "No module named pip" in r.stderr  # from InstallError, the stream was hidden


# -- text from a package never drives the terminal ---------------------------------------------

HOSTILE = "\x1b]0;pwned\x07\x1b[2J[bold]loud[/bold] \u202eevil \x9b31m"


def _hostile_release(live: LiveServer, example_dists: dict[str, Path], tmp: Path) -> None:
    """csv-dedupe 1.0.1 with escape codes in its metadata, and 1.0.0 yanked with them.

    The hub refuses such text at upload and in yank reasons now, but a mirror, another index
    or a release stored before that rule can still serve it: the client must not trust the
    server's text. So the rows are written straight into the database, past the upload rules.
    """
    wheel = repack(example_dists["csv-dedupe:wheel"], tmp, version="1.0.1")
    token = live.user_with_token("alice")
    with httpx.Client(base_url=live.url, timeout=30) as http:
        r = upload(http, token, wheel)
        assert r.status_code == 200, r.text

    async def vandalise(hub: Hub) -> None:
        async with hub.sessions() as session:
            for release in await session.scalars(select(Release)):
                if release.version == "1.0.1":
                    release.summary = HOSTILE
                    release.project_urls = {f"Home{HOSTILE}": f"https://example.org/{HOSTILE}"}
                else:
                    release.yanked, release.yanked_reason = True, HOSTILE
            await session.commit()
        await hub.indexer.reindex()

    live.run(vandalise)
    live.hub.changed("csv-dedupe")


def _neutral(text: str) -> None:
    for raw in ("\x1b", "\x07", "\u202e", "\x9b"):
        assert raw not in text, repr(text)


def test_package_text_is_neutralised_everywhere(  # type: ignore[no-untyped-def]
    run, live: LiveServer, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    _hostile_release(live, example_dists, tmp_path)
    for args in (
        ("info", "csv-dedupe==1.0.1"),
        ("search", "csv"),
        ("versions", "csv-dedupe"),
    ):
        r = run(*args)
        assert r.exit_code == 0, (args, r.stderr)
        _neutral(r.stderr)
        assert "\\x1b" in r.stderr, args  # shown, not obeyed
    r = run("info", "csv-dedupe==1.0.1")
    assert "[bold]loud[/bold]" in r.stderr  # markup printed as written
    assert "\\u202eevil" in r.stderr and "https://example.org/" in r.stderr
    # JSON keeps the real text (escaped by the JSON encoder)
    assert json.loads(run("info", "csv-dedupe==1.0.1", "--json").stdout)["summary"] == HOSTILE


def test_list_neutralises_installed_metadata(run, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from pysetl_hub import install

    hostile = Installed(f"dist{HOSTILE}", "1.0", ["factory"], [f"Ep{HOSTILE}"], None)
    monkeypatch.setattr(install, "installed", lambda *_a, **_k: [hostile])
    r = run("list")
    assert r.exit_code == 0, r.stderr
    _neutral(r.stderr)
    assert "[bold]loud[/bold]" in r.stderr


# -- wording and units -------------------------------------------------------------------------


def test_unsigned_is_warned_once_per_file(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = run("download", "csv-dedupe", "--no-deps", "-d", str(tmp_path / "d"))
    assert r.exit_code == 0, r.stderr
    assert r.stderr.count("csv_dedupe-1.0.0-py3-none-any.whl") == 2  # the warning, and saved
    assert r.stderr.replace(str(tmp_path), "").count("unsigned") == 1


def test_search_headline_is_a_sentence(run) -> None:  # type: ignore[no-untyped-def]
    assert "2 components found" in run("search").stderr
    r = run("search", "csv-dedupe")
    assert "1 component matches 'csv-dedupe'" in r.stderr and "match(es)" not in r.stderr
    r = run("search", "", "--per-page", "1")
    assert "2 components found (page 1 of 2)" in r.stderr


def test_sizes_are_in_binary_units(run, example_dists: dict[str, Path]) -> None:  # type: ignore[no-untyped-def]
    size = example_dists["csv-dedupe:wheel"].stat().st_size
    r = run("info", "csv-dedupe")
    assert f"{size:,}" not in r.stderr
    assert f"{size / 1024:.1f}".removesuffix(".0") + " KiB" in r.stderr
