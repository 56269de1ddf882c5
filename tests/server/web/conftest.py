"""One seeded hub per module: the real example components published through the real CLI
(one of them signed by a trusted publisher, through the test Sigstore instance), a component
whose README attacks its page, and two users (alice publishes, bob is invited)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser

from tests.conftest import start_hub
from tests.server.web.browser import launched
from tests.server.web.hostile import corpus_markdown
from tests.support import sigstore_instance as sig
from tests.support.dists import EXAMPLES, repack
from tests.support.sigstore_instance import SigstoreInstance

CLI = Path(sys.executable).parent / "pysetl-hub"
PASSWORD = "password123"  # tests/support/live.py gives every test user this one


@dataclass
class Site:
    url: str
    alice: str  # alice's API token
    bob: str
    carol: str  # turns two-factor sign-in on
    root: Path

    def cli(self, *args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "PYSETL_HUB_URL": self.url,
            "PYSETL_HUB_TOKEN": token or "",
            "PYSETL_HUB_CONFIG": str(self.root / "config.toml"),
            "PYSETL_HUB_CACHE_DIR": str(self.root / "cache"),
            "NO_COLOR": "1",
        }
        done = subprocess.run(
            [str(CLI), *args], env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done


def build_hostile(out: Path) -> Path:
    """A real project (csv-dedupe's code) whose README is the hostile corpus."""
    work = out / "hostile-readme"
    shutil.copytree(EXAMPLES / "csv-dedupe", work)
    py = work / "pyproject.toml"
    text = py.read_text().replace('name = "csv-dedupe"', 'name = "hostile-readme"', 1)
    text += '\n[tool.hatch.build.targets.wheel]\npackages = ["src/csv_dedupe"]\n'
    py.write_text(text)
    (work / "README.md").write_text(corpus_markdown())
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--no-isolation",
            "--wheel",
            "-o",
            str(out / "dist"),
            str(work),
        ],
        check=True,
        capture_output=True,
    )
    return next((out / "dist").glob("hostile_readme-*.whl"))


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[Browser]:
    """After `site`: Playwright's sync API keeps an event loop running on this thread, and the
    seeding of the site runs coroutines of its own."""
    with launched() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory,
    example_dists: dict[str, Path],
    sigstore: SigstoreInstance,
) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("web")
    server = start_hub(
        root,
        f"sqlite+aiosqlite:///{root / 'hub.sqlite3'}",
        sigstore_trust_root=sigstore.trusted_root,
    )
    try:
        here = Site(
            server.url,
            server.user_with_token("alice"),
            server.user_with_token("bob"),
            server.user_with_token("carol"),
            root,
        )
        here.cli(
            "publish",
            str(example_dists["csv-dedupe:wheel"]),
            str(example_dists["csv-dedupe:sdist"]),
            token=here.alice,
        )
        here.cli(
            "publishers",
            "add",
            "csv-dedupe",
            "github:acme/csv-dedupe/release.yml",
            token=here.alice,
        )
        signed = repack(example_dists["csv-dedupe:wheel"], root / "signed", version="1.1.0")
        sigstore.write(signed, sig.Signing(sig.github("acme/csv-dedupe", "release.yml")))
        here.cli("publish", "--attestations", str(signed), token=here.alice)
        here.cli("publish", str(example_dists["daily-sales-pipeline:wheel"]), token=here.alice)
        here.cli("publish", str(build_hostile(root)), token=here.alice)
        deadline = time.monotonic() + 20
        while httpx.get(f"{server.url}/api/v1/search").json()["total"] < 3:
            assert time.monotonic() < deadline, "search did not index the seeded catalogue"
            time.sleep(0.05)
        yield here
    finally:
        server.stop()
