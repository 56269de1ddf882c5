"""Governance tests share one live hub per module (and backend); each test uses names of its own."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from pysetl_hub_server.db import models
from pysetl_hub_server.hub import Hub
from tests.support.governance import bearer, module_live, token_for, wheel
from tests.support.live import LiveServer
from tests.support.upload import upload

__all__ = ["module_live"]


@dataclass
class Gov:
    live: LiveServer
    http: httpx.Client
    source: Path
    out: Path

    def token(self, username: str, **kw: Any) -> str:
        return token_for(self.live, username, **kw)

    def publish(self, token: str, name: str, version: str = "1.0.0") -> httpx.Response:
        return upload(self.http, token, wheel(self.source, self.out, name, version))

    def call(self, method: str, url: str, token: str | None, **kw: Any) -> httpx.Response:
        return self.http.request(method, url, headers=bearer(token), **kw)

    def events(self, name: str) -> list[tuple[str, str, dict[str, Any]]]:
        """(action, actor, detail) of the component's audit events, oldest first."""

        async def go(hub: Hub) -> list[tuple[str, str, dict[str, Any]]]:
            async with hub.sessions() as session:
                rows = await session.execute(
                    select(
                        models.AuditEvent.action, models.AuditEvent.actor, models.AuditEvent.detail
                    )
                    .join(models.Component, models.Component.id == models.AuditEvent.component_id)
                    .where(models.Component.name == name)
                    .order_by(models.AuditEvent.id)
                )
                return [(a, who, d) for a, who, d in rows]

        return self.live.run(go)


@pytest.fixture(scope="module")
def gov(
    module_live: LiveServer,
    example_dists: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Gov]:
    with httpx.Client(base_url=module_live.url, timeout=30) as http:
        yield Gov(
            module_live, http, example_dists["csv-dedupe:wheel"], tmp_path_factory.mktemp("w")
        )
