"""The read-only switch: while it is on, every write is refused 503 `hub.read_only` with
Retry-After, on every replica; reads and downloads (the hot path's and the app's) go on."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from pysetl_hub_server.cli import main
from pysetl_hub_server.db.models import AuditEvent
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.settings import Settings
from tests.server.security.conftest import StartHub
from tests.support.live import LiveServer, start_live
from tests.support.upload import problem, upload

SIMPLE_JSON = {"Accept": "application/vnd.pypi.simple.v1+json"}


def admin_cli(hub: LiveServer, *args: str) -> str:
    url = hub.settings.effective_database_url
    result = CliRunner(env={"PYSETL_HUB_DATA_DIR": None, "PYSETL_HUB_DATABASE_URL": None}).invoke(
        main, ["--data-dir", str(hub.settings.data_dir), "--database-url", url, *args]
    )
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def refused(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert problem(response)["code"] == "hub.read_only"
    assert int(response.headers["retry-after"]) > 0
    assert "read-only" in problem(response)["detail"]


def reads_work(http: httpx.Client) -> None:
    """The index (twice: the second from the hot path's memory), the API, a download."""
    for _ in range(2):
        page = http.get("/simple/csv-dedupe/", headers=SIMPLE_JSON)
        assert page.status_code == 200
    url = page.json()["files"][0]["url"]
    for _ in range(2):
        assert http.get(url).status_code == 200
        assert http.head(url).status_code == 200
    assert http.get("/api/v1/components/csv-dedupe").status_code == 200
    assert http.get("/api/v1/search", params={"q": "csv"}).status_code == 200
    assert http.options("/api/v1/components").status_code != 503


def writes(http: httpx.Client, token: str, dists: dict[str, Path]) -> list[httpx.Response]:
    auth = {"Authorization": f"Bearer {token}"}
    return [
        upload(http, token, dists["csv-dedupe:sdist"]),
        http.post("/api/v1/components/csv-dedupe/1.0.0/yank", json={"reason": "x"}, headers=auth),
        http.patch("/api/v1/components/csv-dedupe", json={}, headers=auth),
        http.delete("/api/v1/components/csv-dedupe/publishers/1", headers=auth),
        http.put("/anything", headers=auth),
    ]


def test_the_admin_switch_turns_every_replica_read_only_and_back(
    hubs: StartHub, example_dists: dict[str, Path]
) -> None:
    one = hubs("one")
    two = start_live(one.settings)  # a second replica on the same database
    try:
        token = one.user_with_token("alice")
        with httpx.Client(base_url=one.url, timeout=30) as http:
            assert upload(http, token, example_dists["csv-dedupe:wheel"]).status_code == 200
        out = admin_cli(one, "admin", "read-only", "on", "--message", "moving storage")
        assert out.strip() == "read-only: on (moving storage)"
        for server in (one, two):
            with httpx.Client(base_url=server.url, timeout=30) as http:
                for response in writes(http, token, example_dists):
                    refused(response)
                    assert "(moving storage)" in problem(response)["detail"]
                reads_work(http)
        assert admin_cli(one, "admin", "read-only", "status").strip() == (
            "read-only: on (moving storage)"
        )
        assert admin_cli(one, "admin", "read-only", "off").strip() == "read-only: off"
        with httpx.Client(base_url=two.url, timeout=30) as http:
            assert upload(http, token, example_dists["csv-dedupe:sdist"]).status_code == 200
    finally:
        two.stop()

    async def toggles(hub: Hub) -> list[object]:
        async with hub.sessions() as s:
            rows = await s.scalars(select(AuditEvent).where(AuditEvent.action == "hub.read_only"))
            return [(e.detail["on"], e.actor) for e in rows]

    assert one.run(toggles) == [(True, "admin-cli"), (False, "admin-cli")]


def test_the_environment_switch(hubs: StartHub, example_dists: dict[str, Path]) -> None:
    hub = hubs(read_only=True)
    token = hub.user_with_token("alice")
    with httpx.Client(base_url=hub.url, timeout=30) as http:
        refused(upload(http, token, example_dists["csv-dedupe:wheel"]))
        assert http.get("/simple/").status_code == 200
        assert http.get("/api/v1/components").status_code == 200
        assert http.get("/readyz").status_code == 200


@pytest.mark.parametrize(("raw", "on"), [("1", True), ("true", True), ("0", False), ("", False)])
def test_read_only_from_the_environment(raw: str, on: bool) -> None:
    assert Settings.from_env({"PYSETL_HUB_READ_ONLY": raw}).read_only is on


def test_a_switch_that_is_not_one_fails_at_start() -> None:
    with pytest.raises(ValueError, match="PYSETL_HUB_READ_ONLY='maybe' is not a switch"):
        Settings.from_env({"PYSETL_HUB_READ_ONLY": "maybe"})
