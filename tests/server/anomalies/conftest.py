"""One live hub per module and backend, with thresholds small enough for scripted histories
and the periodic checks running twice a second; a local OIDC issuer for trusted publishing."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from pysetl_hub_server.db import models
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.settings import FlagThresholds
from tests.support.dists import repack, repack_sdist
from tests.support.governance import BACKENDS, bearer, token_for
from tests.support.live import LiveServer
from tests.support.oidc_issuer import LocalIssuer
from tests.support.upload import upload

FLAGS = FlagThresholds(
    new_owner_hours=24,
    spike_k=5,
    spike_min_days=7,
    spike_min_count=20,
    popular_downloads=50,
    name_long=10,
    wheel_grace=0,
    check_interval=0.3,
)


@dataclass
class Scripted:
    live: LiveServer
    http: httpx.Client
    issuer: LocalIssuer
    wheel_src: Path
    sdist_src: Path
    out: Path

    def token(self, username: str, **kw: Any) -> str:
        return token_for(self.live, username, **kw)

    def wheel(self, name: str, version: str, **kw: Any) -> Path:
        return repack(
            self.wheel_src, self.out / f"{name}-{version}", name=name, version=version, **kw
        )

    def sdist(self, name: str, version: str) -> Path:
        return repack_sdist(
            self.sdist_src, self.out / f"s-{name}-{version}", name=name, version=version
        )

    def publish(self, token: str, path: Path) -> httpx.Response:
        r = upload(self.http, token, path)
        assert r.status_code == 200, r.text
        return r

    def flags(self, name: str, token: str) -> list[dict[str, Any]]:
        r = self.http.get(f"/api/v1/components/{name}/flags", headers=bearer(token))
        assert r.status_code == 200, r.text
        flags: list[dict[str, Any]] = r.json()["flags"]
        return flags

    def kinds(self, name: str, token: str) -> list[str]:
        return [f["kind"] for f in self.flags(name, token)]

    def wait_for_flag(
        self, name: str, token: str, kind: str, timeout: float = 15
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for flag in self.flags(name, token):
                if flag["kind"] == kind:
                    return flag
            time.sleep(0.2)
        raise AssertionError(f"no {kind} flag on {name} within {timeout}s")

    def history(self, name: str, days: dict[date, int]) -> None:
        """Write download counts of past days (a scripted history: the hub only counts today)."""

        async def go(hub: Hub) -> None:
            async with hub.sessions() as s:
                cid = await s.scalar(
                    select(models.Component.id).where(models.Component.name == name)
                )
                assert cid is not None
                for day, count in days.items():
                    s.add(models.DownloadCount(component_id=cid, day=day, count=count))
                await s.commit()

        self.live.run(go)

    def run(self, fn: Callable[[Hub], Any]) -> Any:
        return self.live.run(fn)


@pytest.fixture(scope="module")
def issuer() -> Iterator[LocalIssuer]:
    server = LocalIssuer("github")
    yield server
    server.stop()


@pytest.fixture(scope="module", params=BACKENDS)
def scripted(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    issuer: LocalIssuer,
    example_dists: dict[str, Path],
) -> Iterator[Scripted]:
    from tests.conftest import start_hub

    tmp = tmp_path_factory.mktemp("hub")
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp / 'hub.sqlite3'}"
    else:
        url = request.getfixturevalue("pg_server").create_database(f"hub_{uuid.uuid4().hex[:12]}")
    server = start_hub(tmp, url, oidc=issuer.settings(), flags=FLAGS, download_flush_interval=0.2)
    with httpx.Client(base_url=server.url, timeout=30) as http:
        yield Scripted(
            server,
            http,
            issuer,
            example_dists["csv-dedupe:wheel"],
            example_dists["csv-dedupe:sdist"],
            tmp_path_factory.mktemp("dists"),
        )
    server.stop()
