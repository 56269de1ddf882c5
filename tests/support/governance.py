"""Set-up for governance tests: users with exactly the tokens a case needs, wheels of any
name and version, and module-scoped live hubs (one per backend) for table-driven tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from pysetl_hub_server.accounts.services import create_token, create_user
from pysetl_hub_server.db import models
from pysetl_hub_server.hub import Hub
from tests.support.dists import repack
from tests.support.live import LiveServer


def token_for(
    live: LiveServer,
    username: str,
    *,
    components: list[str] | None = None,
    actions: list[str] | None = None,
    origin: str = "user",
    admin: bool = False,
) -> str:
    """A token of `username` (created if missing) with this scope, these actions and origin."""

    async def go(hub: Hub) -> str:
        async with hub.sessions() as session:
            user = await session.scalar(select(models.User).where(models.User.username == username))
            if user is None:
                user = await create_user(session, username, f"{username}@example.org", "pass1234")
            user.is_admin = user.is_admin or admin
            token = await create_token(
                session, username, components=components, actions=actions, origin=origin
            )
            await session.commit()
            return token

    return live.run(go)


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def wheel(source: Path, out: Path, name: str, version: str) -> Path:
    """A valid wheel of `name` `version`, made from a built example wheel."""
    return repack(source, out / f"{name}-{version}", name=name, version=version)


def accept_all(http: httpx.Client, token: str) -> list[int]:
    """Accept every pending invitation of the token's user; their ids."""
    pending = [
        i["id"]
        for i in http.get("/api/v1/invitations", headers=bearer(token)).json()["invitations"]
        if i["status"] == "pending"
    ]
    for invitation in pending:
        r = http.post(f"/api/v1/invitations/{invitation}/accept", headers=bearer(token))
        assert r.status_code == 200, r.text
    return pending


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="module", params=BACKENDS)
def module_live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """One live hub for a whole module (per backend): for tests that build on shared state."""
    from tests.conftest import start_hub

    tmp = tmp_path_factory.mktemp("hub")
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp / 'hub.sqlite3'}"
    else:
        url = request.getfixturevalue("pg_server").create_database(f"hub_{uuid.uuid4().hex[:12]}")
    sigstore = request.getfixturevalue("sigstore")
    server = start_hub(tmp, url, sigstore_trust_root=sigstore.trusted_root)
    yield server
    server.stop()
