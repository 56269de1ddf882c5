"""The read-only switch: while it is on, every write is refused 503 `hub.read_only` with
Retry-After, on every replica; reads and downloads (the hot path's and the app's) go on."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import msgspec
import pytest
from click.testing import CliRunner
from litestar.types import Message, Receive, Scope, Send
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from pysetl_hub_server.cli import main
from pysetl_hub_server.db.models import AuditEvent, ServerFlag
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.security.readonly import ReadOnlyGate, read_flag, refusal_body, set_read_only
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
        # Replica two learns the new name by its serial poll (within a second); until then it
        # answers 404 for it from the names it holds.
        deadline = time.monotonic() + 10
        while two.hub.cache.unknown("csv-dedupe"):
            assert time.monotonic() < deadline, "replica two never learnt csv-dedupe"
            time.sleep(0.02)
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


# -- in-process: the switch's services and the ASGI gate, without a server ------------------


async def test_the_switch_is_stored_audited_and_cut_to_500_characters(offline_hub: Hub) -> None:
    long = "m" * 600
    before = datetime.now(UTC)
    await set_read_only(offline_hub, True, long)
    assert await read_flag(offline_hub) == "m" * 500
    async with offline_hub.sessions() as s:
        flag = await s.scalar(select(ServerFlag))
        assert flag is not None and before <= flag.updated <= datetime.now(UTC)
    await set_read_only(offline_hub, True)  # on again, without a message: the flag says ""
    assert await read_flag(offline_hub) == ""
    await set_read_only(offline_hub, False, "done")
    assert await read_flag(offline_hub) is None
    async with offline_hub.sessions() as s:
        rows = await s.scalars(select(AuditEvent).where(AuditEvent.action == "hub.read_only"))
        events = [(e.target, e.detail) for e in rows]
    assert events == [
        ("hub", {"on": True, "message": "m" * 500}),
        ("hub", {"on": True, "message": ""}),
        ("hub", {"on": False, "message": "done"}),
    ]


def test_the_refusal_says_what_still_works_and_when_to_retry() -> None:
    body = msgspec.json.decode(refusal_body("/api/v1/x", "moving storage"))
    assert body == {
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "the hub is read-only for maintenance (moving storage): reads and downloads "
        "work, but uploads, yanks and every other change are refused until the operator "
        "turns it off; retry in 5 minutes",
        "instance": "/api/v1/x",
        "code": "hub.read_only",
        "extra": None,
    }
    without = msgspec.json.decode(refusal_body("/", ""))["detail"]
    assert without.startswith("the hub is read-only for maintenance: reads and downloads work")


class Gate:
    """The read-only layer in front of an app that answers 204: what came out, in order."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], forced: bool = False) -> None:
        self.reached: list[str] = []

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            self.reached.append(scope["type"])
            if scope["type"] == "http":
                await send({"type": "http.response.start", "status": 204, "headers": []})
                await send({"type": "http.response.body", "body": b""})

        self.gate = ReadOnlyGate(app, sessions, forced)

    async def call(self, method: str, scope_type: str = "http") -> list[Message]:
        sent: list[Message] = []

        async def receive() -> Message:
            raise AssertionError("the body of a refused write is never read")

        async def send(message: Message) -> None:
            sent.append(message)

        scope = {"type": scope_type, "method": method, "path": "/api/v1/components/x/yank"}
        await self.gate(scope, receive, send)  # type: ignore[arg-type]
        return sent


def refusal_of(sent: list[Message], message: str) -> None:
    start, body = sent
    assert start["status"] == 503
    payload = refusal_body("/api/v1/components/x/yank", message)
    assert start["headers"] == [
        (b"content-type", b"application/problem+json"),
        (b"content-language", b"en"),
        (b"vary", b"Accept-Language, Cookie"),
        (b"content-length", str(len(payload)).encode()),
        (b"retry-after", b"300"),
        (b"connection", b"close"),
    ]
    assert body == {"type": "http.response.body", "body": payload, "more_body": False}


async def test_the_gate_refuses_writes_and_passes_reads_while_the_flag_is_on(
    offline_hub: Hub,
) -> None:
    gate = Gate(offline_hub.sessions)
    for method in ("POST", "GET"):
        assert (await gate.call(method))[0]["status"] == 204  # off: everything passes
    await set_read_only(offline_hub, True, "moving storage")
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        refusal_of(await gate.call(method), "moving storage")
    for method in ("GET", "HEAD", "OPTIONS"):
        assert (await gate.call(method))[0]["status"] == 204
    await gate.call("", "lifespan")  # not HTTP: never looked at
    assert gate.reached == ["http"] * 5 + ["lifespan"]


async def test_the_environment_switch_refuses_without_a_message(offline_hub: Hub) -> None:
    refusal_of(await Gate(offline_hub.sessions, forced=True).call("POST"), "")


async def test_a_flag_that_cannot_be_read_lets_the_write_through_and_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The database is down: the app answers the write (with its own outage 503)."""
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'hub.sqlite3'}")
    gate = Gate(async_sessionmaker(engine))
    try:
        with caplog.at_level(logging.DEBUG, logger="pysetl_hub_server.security.readonly"):
            assert (await gate.call("POST"))[0]["status"] == 204
    finally:
        await engine.dispose()
    (logged,) = caplog.records
    assert logged.getMessage() == "read-only flag unreadable; letting the write through"
    assert logged.exc_info is not None


async def test_the_refusal_follows_accept_language(offline_hub: Hub) -> None:
    """The gate answers before the app, so it negotiates the language itself: the same code
    and status, the detail in Spanish, the operator's message quoted as it was written."""
    sent: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("a refused write never reaches the app")

    async def send(message: Message) -> None:
        sent.append(message)

    await set_read_only(offline_hub, True, "moving storage")
    gate = ReadOnlyGate(app, offline_hub.sessions, forced=False)
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/components/x/yank",
        "headers": [(b"accept-language", b"fr;q=0.9, es-MX;q=0.8")],
    }
    await gate(scope, None, send)  # type: ignore[arg-type]
    start, body = sent
    assert (b"content-language", b"es") in start["headers"]
    payload = msgspec.json.decode(body["body"])
    assert payload["code"] == "hub.read_only" and payload["status"] == 503
    assert payload["title"] == "Servicio no disponible"
    assert payload["detail"].startswith(
        "el hub está en modo de solo lectura por mantenimiento (moving storage): "
    )
