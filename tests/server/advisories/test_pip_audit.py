"""The real pip-audit audits hub components through the hub's OSV query API, unchanged:
`pip-audit -s osv --osv-url <hub>/osv/v1/query --path <dir>`.

Nothing is mocked and nothing reaches the internet: the component is installed by the real pip
from the hub's simple index (`--no-deps`: its PySpark dependencies are not what is audited),
and pip-audit's `--path` reads the installed distributions and asks only the `--osv-url`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.advisories.conftest import advisory
from tests.support.clients import pip, pip_env
from tests.support.governance import bearer, token_for, wheel
from tests.support.live import LiveServer
from tests.support.upload import upload

PIP_AUDIT = Path(sys.executable).parent / "pip-audit"


@pytest.fixture(scope="module")
def hub(sqlite_hub: LiveServer) -> LiveServer:
    return sqlite_hub


def _install(hub: LiveServer, target: Path, requirement: str) -> None:
    done = pip(
        "install",
        "--no-deps",
        "--no-cache-dir",
        "--target",
        str(target),
        "--index-url",
        f"{hub.url}/simple/",
        requirement,
    )
    assert done.returncode == 0, done.stderr


def _audit(hub: LiveServer, target: Path, cache: Path) -> tuple[int, dict[str, Any]]:
    done = subprocess.run(
        [
            str(PIP_AUDIT),
            "-s",
            "osv",
            "--osv-url",
            f"{hub.url}/osv/v1/query",
            "--path",
            str(target),
            "--cache-dir",
            str(cache),
            "--progress-spinner",
            "off",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=pip_env(),
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def _found(report: dict[str, Any], name: str) -> tuple[str, list[dict[str, Any]]]:
    (dep,) = [d for d in report["dependencies"] if d["name"] == name]
    return dep["version"], dep["vulns"]


def test_pip_audit_reports_the_hubs_advisory_for_the_affected_version_only(
    hub: LiveServer, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    if not PIP_AUDIT.exists():  # a dev dependency: `make .venv/.synced-stamp` installs it
        from tests.support.parts import missing

        missing("pip-audit", "run `make .venv/.synced-stamp`")
    token = token_for(hub, "audrey")
    with httpx.Client(base_url=hub.url, timeout=30) as http:
        for version in ("1.9.0", "1.10.0"):
            built = wheel(example_dists["csv-dedupe:wheel"], tmp_path, "Audit_Me", version)
            assert upload(http, token, built).status_code == 200
        # 1.10.0 fixes it: compared as versions, "1.10.0" is after "1.9.0" (as strings, before).
        body = advisory(
            affected=[
                {
                    "ranges": [
                        {
                            "type": "ECOSYSTEM",
                            "events": [{"introduced": "1.0"}, {"fixed": "1.10.0"}],
                        }
                    ]
                }
            ],
        )
        r = http.post("/api/v1/components/audit-me/advisories", json=body, headers=bearer(token))
        assert r.status_code == 201, r.text
        published = r.json()["id"]

        old, new = tmp_path / "old", tmp_path / "new"
        _install(hub, old, "audit-me==1.9.0")
        _install(hub, new, "audit-me")  # the newest: 1.10.0
        code, report = _audit(hub, old, tmp_path / "cache")
        version, vulns = _found(report, "audit-me")
        assert code == 1 and version == "1.9.0"
        # pip-audit names a finding by its CVE alias when it has one, the hub's id beside it.
        assert len(vulns) == 1
        assert {vulns[0]["id"], *vulns[0]["aliases"]} == {published, "CVE-2026-12345"}
        assert vulns[0]["fix_versions"] == ["1.10.0"]
        code, report = _audit(hub, new, tmp_path / "cache")
        assert code == 0 and _found(report, "audit-me") == ("1.10.0", [])

        # Withdrawn, it no longer affects anything, and pip-audit says so.
        r = http.post(f"/api/v1/advisories/{published}/withdraw", json={}, headers=bearer(token))
        assert r.status_code == 200, r.text
        code, report = _audit(hub, old, tmp_path / "cache2")
        assert code == 0 and _found(report, "audit-me") == ("1.9.0", [])
