"""Governance tests share one live hub per module (and backend); each test uses names of its own."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from pysetl_hub_server.accounts.permissions import Identity
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


# -- in-process: users and components on an offline hub, and identities acting as them ------


@dataclass
class People:
    """Users (by name) and components on an offline hub; `who(name)` is their user-wide
    session identity, `token(name, ...)` a token identity."""

    hub: Hub
    ids: dict[str, int]

    def who(self, name: str, **kw: Any) -> Identity:
        kw.setdefault("via", "session")
        kw.setdefault("ip", "192.0.2.1")
        return Identity(self.ids[name], name, None, **kw)

    async def component(self, name: str, owner: str, display: str | None = None) -> int:
        async with self.hub.sessions() as s:
            row = models.Component(name=name, display_name=display or name, ultra_name=name)
            s.add(row)
            await s.flush()
            s.add(models.Role(user_id=self.ids[owner], component_id=row.id, role="owner"))
            await s.commit()
            return row.id

    async def org(self, name: str, owner: str, display: str | None = None) -> int:
        async with self.hub.sessions() as s:
            row = models.Organization(name=name, display_name=display or name)
            s.add(row)
            await s.flush()
            s.add(models.OrgMember(org_id=row.id, user_id=self.ids[owner], role="owner"))
            await s.commit()
            return row.id

    async def events(self, *actions: str) -> list[tuple[str, str, str, dict[str, Any]]]:
        """(action, actor, target, detail) of the audit events with those actions, in order."""
        async with self.hub.sessions() as s:
            rows = await s.scalars(
                select(models.AuditEvent)
                .where(models.AuditEvent.action.in_(actions))
                .order_by(models.AuditEvent.id)
            )
            return [(e.action, e.actor, e.target, e.detail) for e in rows]


@pytest.fixture
async def people(offline_hub: Hub) -> People:
    names = ["ann", "ben", "cat", "dan", "eve"]
    async with offline_hub.sessions() as s:
        rows = [models.User(username=n, email=f"{n}@example.org", password_hash="x") for n in names]
        s.add_all(rows)
        await s.commit()
        return People(offline_hub, {r.username: r.id for r in rows})
