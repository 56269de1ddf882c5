"""`pysetl-hub audit` and the advisory rules of `install`, against a real hub on loopback.

The catalog: csv-dedupe 1.0.0, 1.1.0 and 1.2.0; one advisory affects 1.2.0 and later (no fix
yet), another lists 1.0.0. A real interpreter (a venv) with the component installed by the
real pip from the hub is audited with --python.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import Result

from pysetl_hub.config import Config
from pysetl_hub.errors import ResolutionError
from tests.support.clients import pip
from tests.support.governance import bearer, wheel
from tests.support.live import LiveServer
from tests.support.upload import upload

SPARK = ("--spark-version", "3.5", "--pysetl-version", "1.2.0")


def _advise(http: httpx.Client, token: str, affected: list[dict[str, object]]) -> str:
    body = {"summary": "Unsafe temp files", "affected": affected, "aliases": ["CVE-2026-40001"]}
    r = http.post("/api/v1/components/csv-dedupe/advisories", json=body, headers=bearer(token))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


@pytest.fixture
def advised(
    live: LiveServer, published_catalog: str, example_dists: dict[str, Path], tmp_path: Path
) -> tuple[str, str]:
    """(id of the advisory on 1.2.0+, id of the one on 1.0.0)."""
    with httpx.Client(base_url=live.url, timeout=30) as http:
        for version in ("1.1.0", "1.2.0"):
            built = wheel(example_dists["csv-dedupe:wheel"], tmp_path, "csv-dedupe", version)
            assert upload(http, published_catalog, built).status_code == 200
        newest = _advise(
            http,
            published_catalog,
            [{"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.2.0"}]}]}],
        )
        oldest = _advise(http, published_catalog, [{"versions": ["1.0.0"]}])
    return newest, oldest


def _plan(run, *args: str) -> tuple[Result, dict]:  # type: ignore[no-untyped-def, type-arg]
    r = run("install", *args, "--dry-run", "--json", *SPARK)
    return r, (json.loads(r.stdout) if r.exit_code == 0 else {})


def test_the_resolver_prefers_an_unaffected_release_and_says_why(run, advised) -> None:  # type: ignore[no-untyped-def]
    newest, _oldest = advised
    r, plan = _plan(run, "csv-dedupe")
    assert r.exit_code == 0, r.stderr
    (pick,) = plan["install"]
    assert pick["version"] == "1.1.0" and pick["advisories"] == []
    assert pick["skipped"] == [f"skipped 1.2.0: affected by {newest}"]
    human = run("install", "csv-dedupe", "--dry-run", *SPARK)
    assert f"skipped 1.2.0: affected by {newest}" in human.stderr


def test_install_warns_about_an_affected_pin_and_require_safe_refuses_it(
    run, advised, config: Config
) -> None:  # type: ignore[no-untyped-def]
    newest, oldest = advised
    r, plan = _plan(run, "csv-dedupe==1.2.0")
    assert r.exit_code == 0 and plan["install"][0]["advisories"] == [newest]
    assert f"csv-dedupe 1.2.0 is affected by {newest}" in " ".join(r.stderr.split())
    r, plan = _plan(run, "csv-dedupe<1.1")
    assert r.exit_code == 0 and plan["install"][0]["advisories"] == [oldest]

    refused = run("install", "csv-dedupe==1.2.0", "--dry-run", "--require-safe", *SPARK)
    assert refused.exit_code == 4, refused.stderr
    assert f"1.2.0: affected by {newest}" in refused.stderr and "--require-safe" in refused.stderr
    # When a safe release fits, --require-safe takes it.
    r, plan = _plan(run, "csv-dedupe", "--require-safe")
    assert r.exit_code == 0 and plan["install"][0]["version"] == "1.1.0"
    # The config setting does what the flag does.
    config.path.write_text("require_safe = true\n")
    refused = run("install", "csv-dedupe<1.1", "--dry-run", *SPARK)
    assert refused.exit_code == 4 and f"1.0.0: affected by {oldest}" in refused.stderr
    config.path.write_text('require_safe = "sometimes"\n')
    assert run("install", "csv-dedupe", "--dry-run", *SPARK).exit_code == 1


def test_a_withdrawn_advisory_no_longer_steers_the_resolver(
    run, advised, live: LiveServer, published_catalog: str
) -> None:  # type: ignore[no-untyped-def]
    newest, _oldest = advised
    r = httpx.post(
        f"{live.url}/api/v1/advisories/{newest}/withdraw",
        json={},
        headers=bearer(published_catalog),
    )
    assert r.status_code == 200
    r, plan = _plan(run, "csv-dedupe")
    assert plan["install"][0]["version"] == "1.2.0" and plan["install"][0]["skipped"] == []


def _lock(path: Path, *packages: tuple[str, str]) -> Path:
    rows = "".join(f'[[packages]]\nname = "{n}"\nversion = "{v}"\n\n' for n, v in packages)
    path.write_text(
        f'lock-version = "1.0"\ncreated-by = "test"\n\n{rows}[[packages]]\nname = "local"\n'
    )
    return path


def test_audit_a_lock_file(run, advised, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    newest, _oldest = advised
    lock = _lock(tmp_path / "pylock.toml", ("CSV_Dedupe", "1.2.0"), ("requests", "2.32.0"))
    r = run("audit", "--lock", str(lock), "--json")
    assert r.exit_code == 1, r.stderr
    report = json.loads(r.stdout)
    assert report["checked"] == 2 and report["source"] == str(lock)
    (finding,) = report["affected"]
    assert (finding["name"], finding["version"]) == ("csv-dedupe", "1.2.0")
    assert finding["advisories"] == [
        {
            "id": newest,
            "aliases": ["CVE-2026-40001"],
            "summary": "Unsafe temp files",
            "fixed_in": [],
        }
    ]
    clean = _lock(tmp_path / "clean.toml", ("csv-dedupe", "1.1.0"))
    r = run("audit", "--lock", str(clean))
    assert r.exit_code == 0 and "no known advisories" in r.stderr
    broken = tmp_path / "broken.toml"
    broken.write_text("[[packages]\n")
    r = run("audit", "--lock", str(broken))
    assert r.exit_code == 10 and "error:" in r.stderr  # 1 would read as "affected"
    assert run("audit", "--lock", str(clean), "--python", sys.executable).exit_code == 2


def test_audit_an_interpreter(run, advised, live: LiveServer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    newest, oldest = advised
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    done = pip(
        "install",
        "--no-deps",
        "--no-cache-dir",
        "--target",
        site,
        "--index-url",
        f"{live.url}/simple/",
        "csv-dedupe==1.0.0",
    )
    assert done.returncode == 0, done.stderr
    r = run("audit", "--python", str(python))
    assert r.exit_code == 1, r.stderr
    assert "csv-dedupe" in r.stderr and oldest in r.stderr and newest not in r.stderr
    report = json.loads(run("audit", "--python", str(python), "--json").stdout)
    assert [(f["name"], f["version"]) for f in report["affected"]] == [("csv-dedupe", "1.0.0")]


def test_both_clients_prefer_the_unaffected_release(advised, config: Config) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    from pysetl_hub.client import AsyncHubClient, HubClient
    from pysetl_hub.environment import Environment

    newest, _oldest = advised
    env = Environment.probe().override(pysetl="1.2.0", pyspark="3.5")

    async def go() -> tuple[str, tuple[str, ...]]:
        async with AsyncHubClient(config) as ac:
            (pick,) = (await ac.resolve("csv-dedupe", env, with_deps=False)).picks
        return pick.version, pick.skipped

    with HubClient(config) as client:
        (pick,) = client.resolve("csv-dedupe", env, with_deps=False).picks
        with pytest.raises(ResolutionError) as refused:
            client.resolve("csv-dedupe>=1.2", env, with_deps=False, require_safe=True)
    assert (pick.version, pick.skipped) == ("1.1.0", (f"skipped 1.2.0: affected by {newest}",))
    assert asyncio.run(go()) == (pick.version, pick.skipped)
    assert [(r.version, r.reason) for r in refused.value.rejections] == [
        ("1.2.0", f"affected by {newest}"),
        ("1.1.0", "excluded by >=1.2"),
        ("1.0.0", "excluded by >=1.2"),
    ]
