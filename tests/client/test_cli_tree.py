"""Both CLIs, walked command by command: every option says what it does, and `-h` works on
every group and subcommand."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from pysetl_hub.cli import main as client_cli
from pysetl_hub_server.cli import main as server_cli


def walk(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from walk(sub, (*path, name))


def resolve(root: click.Command, path: tuple[str, ...]) -> click.Command:
    command = root
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


CASES = [
    pytest.param(cli, path, id=" ".join((prog, *path)))
    for prog, cli in (("pysetl-hub", client_cli), ("pysetl-hub-server", server_cli))
    for path in walk(cli)
]


@pytest.mark.parametrize(("cli", "path"), CASES)
def test_every_option_has_help(cli: click.Group, path: tuple[str, ...]) -> None:
    command = resolve(cli, path)
    missing = [
        p.opts[0]
        for p in command.params
        if isinstance(p, click.Option) and not (p.help or "").strip()
    ]
    assert not missing, f"{' '.join(path) or 'the root'}: options without help: {missing}"


@pytest.mark.parametrize(("cli", "path"), CASES)
def test_dash_h_shows_help(cli: click.Group, path: tuple[str, ...]) -> None:
    env = {"PYSETL_HUB_DATA_DIR": None, "PYSETL_HUB_DATABASE_URL": None}
    result = CliRunner(env=env).invoke(cli, [*path, "-h"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Usage: ") and "-h, --help" in result.output


def test_the_cli_kinds_are_the_schemas_kinds() -> None:
    from pysetl_hub.cli.options import KINDS
    from pysetl_hub_schemas import KINDS as SCHEMA_KINDS

    assert KINDS == SCHEMA_KINDS
