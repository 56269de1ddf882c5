"""The lean serving process: what `serve` execs into, and what its workers inherit."""

from __future__ import annotations

import json
import os
import sys

import pytest

from pysetl_hub_server import launch


def test_the_command_is_this_interpreter_and_module_with_json_options() -> None:
    options = {"host": "127.0.0.1", "port": 8123, "workers": 2, "tls_cert": None}
    argv = launch.command(options)
    assert argv[:3] == [sys.executable, "-m", "pysetl_hub_server.launch"]
    assert json.loads(argv[3]) == options


def test_workers_get_two_malloc_arenas_unless_the_operator_chose(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each aiosqlite connection is a thread; glibc would give each an arena of its own."""
    monkeypatch.setenv("MALLOC_ARENA_MAX", "tracked")  # so the teardown restores the original
    monkeypatch.delenv("MALLOC_ARENA_MAX")
    launch.environment()
    assert os.environ["MALLOC_ARENA_MAX"] == "2"
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    launch.environment()
    assert os.environ["MALLOC_ARENA_MAX"] == "4"
