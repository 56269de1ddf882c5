"""Start-up: `pysetl-hub --help` imports no HTTP, signing or attestation library, and
`python -m pysetl_hub` is the whole CLI. Checked in fresh interpreters, by sys.modules (a
timing would be flaky; bench/cli_startup.py measures the time)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("sigstore", "pypi_attestations", "httpx", "rich", "pysetl_hub_provenance")

PROBE = r"""
import json, sys
import click
from pysetl_hub.cli import main
ctx = click.Context(main, info_name="pysetl-hub")
text = main.get_help(ctx)
for name in main.list_commands(ctx):
    sub = main.get_command(ctx, name)
    sub.get_help(click.Context(sub, info_name=name, parent=ctx))
print(json.dumps({"help": text, "modules": sorted(sys.modules)}))
"""


def _fresh(code: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    result: dict[str, object] = json.loads(out)
    return result


def test_help_imports_nothing_heavy() -> None:
    result = _fresh(PROBE)
    modules = result["modules"]
    assert isinstance(modules, list)
    loaded = {m.split(".")[0] for m in modules}
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
    assert "whoami" in str(result["help"])


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["-h"]])
def test_entry_point_runs_light(argv: list[str]) -> None:
    code = (
        "import sys, json\n"
        "from pysetl_hub.cli import main\n"
        f"sys.argv = ['pysetl-hub', *{argv!r}]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert e.code in (0, None), e.code\n"
        "print(json.dumps({'modules': sorted(sys.modules)}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    modules = json.loads(out.splitlines()[-1])["modules"]
    assert not {m.split(".")[0] for m in modules} & set(HEAVY)


@pytest.mark.parametrize("module", ["pysetl_hub", "pysetl_hub.cli"])
def test_python_m_lists_every_command(module: str) -> None:
    from pysetl_hub.cli import main

    r = subprocess.run(
        [sys.executable, "-m", module, "--help"], capture_output=True, text=True, check=True
    )
    assert r.stdout.startswith("Usage: pysetl-hub ")
    listed = {
        line.split()[0]
        for line in r.stdout.split("Commands:", 1)[1].splitlines()
        if line.startswith("  ")
    }
    assert listed == set(main.commands)
    assert {"publishers", "verify", "whoami"} <= listed
