"""`pysetl-hub publish` in CI with no token: the job's OIDC identity mints an upload token.

The real CLI runs as a subprocess with the environment a GitHub Actions job with
`permissions: id-token: write` has (or a GitLab CI job with an `id_tokens` entry); the `id`
package fetches the job's token from the local issuer (tests/support/oidc_issuer.py), the hub
on loopback verifies it against that issuer's JWKS, and the upload goes through with the
minted token. SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from pysetl_hub_server.db.models import AuditEvent
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.settings import Oidc, OidcIssuer
from tests.conftest import start_hub
from tests.support import postgres
from tests.support.live import LiveServer
from tests.support.oidc_issuer import LocalIssuer

CLI = str(Path(sys.executable).parent / "pysetl-hub")
PUBLISHER = {"kind": "github", "repository": "acme/csv-dedupe", "workflow": "release.yml"}


@pytest.fixture
def issuer() -> Iterator[LocalIssuer]:
    server = LocalIssuer("github")
    yield server
    server.stop()


@pytest.fixture
def gitlab() -> Iterator[LocalIssuer]:
    server = LocalIssuer("gitlab")
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def hub(
    request: pytest.FixtureRequest, tmp_path: Path, issuer: LocalIssuer, gitlab: LocalIssuer
) -> Iterator[LiveServer]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}"
    else:
        pg: postgres.PostgresServer = request.getfixturevalue("pg_server")
        url = pg.create_database(f"hub_{uuid.uuid4().hex[:12]}")
    oidc = Oidc(
        issuers=(OidcIssuer(issuer.url, "github"), OidcIssuer(gitlab.url, "gitlab")),
        allow_http=True,
    )
    server = start_hub(tmp_path, url, oidc=oidc)
    yield server
    server.stop()


@pytest.fixture
def alice(hub: LiveServer) -> str:
    """alice, who registered the release workflow as csv-dedupe's publisher (reserving it)."""
    token = hub.user_with_token("alice")
    with httpx.Client(base_url=hub.url) as http:
        r = http.post(
            "/api/v1/components/csv-dedupe/publishers",
            json=PUBLISHER,
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 201, r.text
    return token


def publish(
    hub: LiveServer, tmp_path: Path, wheel: Path, ci: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """`pysetl-hub publish WHEEL` in a clean environment: no config file, no token, only `ci`."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path / "home"),
        "PYSETL_HUB_URL": hub.url,
        "PYSETL_HUB_CONFIG": str(tmp_path / "config.toml"),
        "PYSETL_HUB_CACHE_DIR": str(tmp_path / "cache"),
        "NO_COLOR": "1",
        "COLUMNS": "250",
        **ci,
    }
    return subprocess.run(
        [CLI, "publish", str(wheel)], env=env, capture_output=True, text=True, timeout=120
    )


def upload_actor(hub: LiveServer) -> str | None:
    async def go(h: Hub) -> str | None:
        async with h.sessions() as s:
            return await s.scalar(
                select(AuditEvent.actor).where(AuditEvent.action == "file.upload")
            )

    return hub.run(go)


def test_publish_in_github_actions_mints_and_uploads(
    hub: LiveServer, alice: str, issuer: LocalIssuer, example_dists: dict[str, Path],
    tmp_path: Path,
) -> None:  # fmt: skip
    r = publish(hub, tmp_path, example_dists["csv-dedupe:wheel"], issuer.github_env())
    assert r.returncode == 0, r.stderr
    assert "trusted publishing" in r.stderr and "csv-dedupe" in r.stderr
    assert "published csv_dedupe-1.0.0-py3-none-any.whl" in r.stderr
    assert issuer.ambient_requests == 1
    with httpx.Client(base_url=hub.url) as http:
        assert http.get("/api/v1/components/csv-dedupe/1.0.0").status_code == 200
    assert upload_actor(hub) == "publisher:github:acme/csv-dedupe/release.yml"


def test_a_configured_token_still_wins(
    hub: LiveServer, alice: str, issuer: LocalIssuer, example_dists: dict[str, Path],
    tmp_path: Path,
) -> None:  # fmt: skip
    ci = {**issuer.github_env(), "PYSETL_HUB_TOKEN": alice}
    r = publish(hub, tmp_path, example_dists["csv-dedupe:wheel"], ci)
    assert r.returncode == 0, r.stderr
    assert "trusted publishing" not in r.stderr
    assert issuer.ambient_requests == 0
    assert upload_actor(hub) == "alice"


def test_publish_in_gitlab_ci_mints_and_uploads(
    hub: LiveServer, alice: str, gitlab: LocalIssuer, example_dists: dict[str, Path],
    tmp_path: Path,
) -> None:  # fmt: skip
    token = alice
    with httpx.Client(base_url=hub.url) as http:
        body = {"kind": "gitlab", "repository": "acme/csv-dedupe", "workflow": ".gitlab-ci.yml"}
        r = http.post("/api/v1/components/csv-dedupe/publishers", json=body,
                      headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        assert r.status_code == 201, r.text
    jwt_text = gitlab.sign(gitlab.claims("acme/csv-dedupe", ".gitlab-ci.yml"))
    ci = {"GITLAB_CI": "true", "PYSETL_HUB_ID_TOKEN": jwt_text}
    r = publish(hub, tmp_path, example_dists["csv-dedupe:wheel"], ci)
    assert r.returncode == 0, r.stderr
    assert "trusted publishing" in r.stderr
    assert upload_actor(hub) == "publisher:gitlab:acme/csv-dedupe//.gitlab-ci.yml"


def test_a_workflow_that_is_not_the_publisher_is_refused(
    hub: LiveServer, alice: str, issuer: LocalIssuer, example_dists: dict[str, Path],
    tmp_path: Path,
) -> None:  # fmt: skip
    issuer.ambient = {"workflow": "nightly.yml"}
    r = publish(hub, tmp_path, example_dists["csv-dedupe:wheel"], issuer.github_env())
    assert r.returncode == 8, r.stderr
    assert "no trusted publisher" in r.stderr and "nightly.yml" in r.stderr
    assert upload_actor(hub) is None


def test_a_job_without_id_token_permission_says_what_to_add(
    hub: LiveServer, issuer: LocalIssuer, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    ci = {k: v for k, v in issuer.github_env().items() if k != "ACTIONS_ID_TOKEN_REQUEST_TOKEN"}
    r = publish(hub, tmp_path, example_dists["csv-dedupe:wheel"], ci)
    assert r.returncode == 1, r.stderr
    assert "id-token: write" in r.stderr


def test_outside_ci_without_a_token_nothing_changes(
    hub: LiveServer, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    r = publish(hub, tmp_path, example_dists["csv-dedupe:wheel"], {})
    assert r.returncode == 8, r.stderr
    assert "trusted publishing" not in r.stderr
