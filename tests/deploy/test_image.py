"""The container image, checked without a Docker engine (none runs on these machines).

- The Dockerfile, parsed: two stages, the lock installed frozen, a non-root user, a health
  check, volumes for data and temporary files, only the built environment copied to the final
  stage, and every `PYSETL_HUB_*` variable it sets one the settings read.
- The build context, computed from `.dockerignore` with Docker's rules: what the image is built
  from is in it; the local environment, hub-data (password and token hashes), history, tests
  and caches are not.
- The build stage's install, run for real: `uv sync` of the context alone into a fresh
  environment, which then imports the server (the old image missed a distribution).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = ROOT / "server" / "src" / "pysetl_hub_server" / "settings.py"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per line, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", text)
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for word, rest in instructions((ROOT / "Dockerfile").read_text()):
        if word == "FROM":
            result.append([])
        result[-1].append((word, rest))
    return result


def test_two_stages_and_the_lock_installed_frozen() -> None:
    build, runtime = stages()
    assert build[0][1].endswith("AS build") and runtime[0][1].endswith("AS runtime")
    runs = " ".join(rest for word, rest in build if word == "RUN")
    assert "uv sync --frozen --no-dev --no-editable --package pysetl-hub-server" in runs
    copied = [rest for word, rest in build if word == "COPY"]
    assert "pyproject.toml uv.lock ./" in copied
    uv_image = next(c for c in copied if c.startswith("--from=ghcr.io/astral-sh/uv:"))
    assert re.search(r"uv:\d+\.\d+\.\d+ ", uv_image), "pin uv to a release"


def test_the_final_stage_is_non_root_healthy_and_has_no_build_tools() -> None:
    _, runtime = stages()
    words = [word for word, _ in runtime]
    user = next(rest for word, rest in runtime if word == "USER")
    assert user.split(":")[0] not in ("root", "0")
    assert "HEALTHCHECK" in words and "/healthz" in dict(runtime)["HEALTHCHECK"]
    copies = [rest for word, rest in runtime if word == "COPY"]
    assert copies == ["--from=build /opt/venv /opt/venv"]  # the environment, nothing else
    runs = " ".join(rest for word, rest in runtime if word == "RUN")
    for tool in ("apt-get install", "pip install", "gcc", "build-essential", "uv "):
        assert tool not in runs, tool
    volumes = dict(runtime)["VOLUME"]
    assert "/var/lib/pysetl-hub" in volumes and "/tmp" in volumes  # read-only root friendly
    cmd = dict(runtime)["CMD"]
    assert '"pysetl-hub-server", "serve"' in cmd


def test_every_setting_the_image_sets_is_one_the_server_reads() -> None:
    read = set(re.findall(r"PYSETL_HUB_[A-Z0-9_]+", SETTINGS.read_text()))
    _, runtime = stages()
    env = " ".join(rest for word, rest in runtime if word == "ENV")
    set_here = set(re.findall(r"(PYSETL_HUB_[A-Z0-9_]+)=", env))
    assert set_here and set_here <= read, set_here - read


def _ignored(path: str, patterns: list[tuple[bool, str]]) -> bool:
    """Docker's rule: the last pattern that matches the path (or a parent of it) decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    verdict = False
    for negated, pattern in patterns:
        regex = _regex(pattern.rstrip("/"))
        if any(re.fullmatch(regex, c) for c in candidates):
            verdict = not negated
    return verdict


def _regex(pattern: str) -> str:
    """Docker's (Go filepath.Match) wildcards: `*` and `?` stay within a directory, `**`
    crosses any number of them."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return out


def context() -> set[str]:
    patterns = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            patterns.append((line.startswith("!"), line.removeprefix("!")))
    sent = set()
    for dirpath, dirnames, filenames in os.walk(ROOT):
        rel_dir = os.path.relpath(dirpath, ROOT)
        if rel_dir.startswith((".git", ".venv", "build", "hub-data", "node_modules")):
            dirnames[:] = []
        for name in filenames:
            rel = os.path.normpath(os.path.join(rel_dir, name))
            if not _ignored(rel, patterns):
                sent.add(rel)
    return sent


def test_the_build_context_holds_the_sources_and_no_secret_or_environment() -> None:
    sent = context()
    for needed in ("pyproject.toml", "uv.lock", "server/pyproject.toml",
                   "server/src/pysetl_hub_server/app.py", "schemas/pyproject.toml",
                   "provenance/pyproject.toml", "client/pyproject.toml",
                   "server/src/pysetl_hub_server/web/static/vendor/htmx/htmx.min.js",
                   "server/src/pysetl_hub_server/locale/es/LC_MESSAGES/web.mo"):  # fmt: skip
        assert needed in sent, needed
    for path in sent:
        top = path.split("/")[0]
        assert top not in (".venv", "hub-data", ".git", "tests", "bench", "docs", "build"), path
        assert "__pycache__" not in path and not path.endswith((".pyc", ".sqlite3")), path
        assert not path.startswith("client/src"), path  # the CLI is not in the server image
    # And the rules themselves, on names that exist only on a developer's machine:
    patterns = [(line.startswith("!"), line.removeprefix("!")) for line in
                (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]  # fmt: skip
    for local in (".venv/bin/python", "hub-data/hub.sqlite3", ".git/HEAD",
                  "server/src/pysetl_hub_server/__pycache__/app.cpython-312.pyc",
                  "server/hub.sqlite3", "server/src/x.egg-info/PKG-INFO"):  # fmt: skip
        assert _ignored(local, patterns), local


def test_the_build_stage_installs_a_server_that_imports(tmp_path: Path) -> None:
    """`uv sync` exactly as the Dockerfile runs it, on the context alone (copied), into a new
    environment; then the server's app and CLI import from it."""
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    if not Path(uv).exists():
        pytest.fail("uv is not installed: make test installs it with the environment")
    src = tmp_path / "src"
    for rel in context():
        target = src / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, target)
    env = {k: v for k, v in os.environ.items() if not k.startswith("UV_")}
    env.update(UV_PROJECT_ENVIRONMENT=str(tmp_path / "venv"), UV_LINK_MODE="copy", UV_NO_CONFIG="1")
    _, build = stages()[0][0], stages()[0]
    run = next(rest for word, rest in build if word == "RUN")
    argv = shlex.split(run)
    assert argv[:2] == ["uv", "sync"]
    done = subprocess.run(
        [uv, *argv[1:], "--python", sys.executable], cwd=src, env=env,
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    python = tmp_path / "venv" / "bin" / "python"
    check = subprocess.run(
        [str(python), "-c", "import pysetl_hub_server.app, pysetl_hub_server.cli; "
         "import importlib.util as u; assert u.find_spec('pysetl_hub') is None"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert check.returncode == 0, check.stderr[-3000:]
    assert (tmp_path / "venv" / "bin" / "pysetl-hub-server").exists()
