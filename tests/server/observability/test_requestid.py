"""The request id: taken from `X-Request-ID` only when sane, else generated; returned on every
answer (hot path, app, error pages, unknown paths); set for every log line of the request."""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pysetl_hub_server.logs import RequestIdFilter
from pysetl_hub_server.observability.requestid import MAX_LENGTH, accepted, new_id
from tests.conftest import start_hub
from tests.support.live import LiveServer
from tests.support.upload import upload

GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.mark.parametrize(
    "raw",
    [
        b"abc",
        b"0c9d0328-1a2b-4c5d-8e9f-0123456789ab",
        b"Root=1-5e1b4151-5ac6c58f5b5dbd6a",
        b"x" * MAX_LENGTH,
        b"trace.id:42/span@7+base64=",
    ],
)
def test_sane_ids_are_kept(raw: bytes) -> None:
    assert accepted(raw) == raw.decode()


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"x" * (MAX_LENGTH + 1),
        b"a" * 10_240,
        b"line\r\nInjected: yes",
        b"line\nfake log line",
        b"with space",
        b'quote"}{"level":"CRITICAL',
        "caf\u00e9".encode(),
        "\u202eevil".encode(),
        b"\x1b[31mred",
        b"nul\x00byte",
        b"tab\there",
    ],
)
def test_hostile_ids_are_refused(raw: bytes) -> None:
    assert accepted(raw) is None


def test_generated_ids_are_random_hex() -> None:
    ids = {new_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(GENERATED.fullmatch(i) for i in ids)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("request-id-hub")
    server = start_hub(tmp, f"sqlite+aiosqlite:///{tmp / 'hub.sqlite3'}", access_log=True)
    yield server
    server.stop()


@pytest.fixture
def http(hub: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=hub.url, timeout=30) as client:
        yield client


def test_every_kind_of_answer_carries_the_id(
    hub: LiveServer, http: httpx.Client, example_dists: dict[str, Path]
) -> None:
    token = hub.user_with_token("alice")
    assert upload(http, token, example_dists["csv-dedupe:wheel"]).status_code == 200
    http.get("/simple/csv-dedupe/")  # rendered once: the next one is from memory
    answers = {
        "hot path": http.get("/simple/csv-dedupe/"),
        "app": http.get("/api/v1/components/csv-dedupe"),
        "problem": http.get("/api/v1/components/no-such-thing"),
        "unknown path": http.get("/no/such/path"),
        "web error page": http.get("/components/no-such-thing", headers={"Accept": "text/html"}),
        "refused write": http.post("/legacy/"),
        "method not allowed": http.delete("/simple/"),
        "readiness": http.get("/readyz"),
    }
    assert answers["hot path"].status_code == 200 and answers["unknown path"].status_code == 404
    seen = set()
    for kind, r in answers.items():
        rid = r.headers.get("x-request-id")
        assert rid is not None and GENERATED.fullmatch(rid), (kind, r.headers)
        seen.add(rid)
    assert len(seen) == len(answers)  # one per request
    for kind, path in (("hot path", "/simple/csv-dedupe/"), ("app", "/healthz")):
        r = http.get(path, headers={"X-Request-ID": "client-chosen.id-1"})
        assert r.headers["x-request-id"] == "client-chosen.id-1", kind


def _raw(hub: LiveServer, header: bytes) -> bytes:
    """A request written byte by byte (httpx refuses what a hostile client may send)."""
    host, port = hub.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + header + b"\r\n\r\n"
        )
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    "value",
    [
        b"a" * 10_240,
        "caf\u00e9-\u202e".encode(),
        b'quote"}{"level":"CRITICAL',
        b"with spaces and ; semicolons",
    ],
)
def test_a_hostile_header_is_replaced(hub: LiveServer, value: bytes) -> None:
    answer = _raw(hub, b"X-Request-ID: " + value)
    head = answer.split(b"\r\n\r\n", 1)[0].lower()
    assert head.startswith(b"http/1.1 200"), head
    (line,) = [h for h in head.split(b"\r\n") if h.startswith(b"x-request-id:")]
    assert GENERATED.fullmatch(line.split(b":", 1)[1].strip().decode()), line
    assert value.lower() not in answer


def test_a_line_break_never_reaches_the_app(hub: LiveServer) -> None:
    """CR or LF inside a header value is refused by the HTTP parser itself (400), before any
    layer of ours runs: nothing of it can be echoed or logged."""
    answer = _raw(hub, b"X-Request-ID: a\rInjected: yes")
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert b"injected" not in answer.lower()


def test_log_lines_of_a_request_carry_its_id(
    hub: LiveServer, http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    """Every record written while the request is handled (the access line, the accounts
    module's refusal, ...) is stamped with its id by the filter every handler carries."""
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.DEBUG):
        r = http.post(
            "/legacy/",
            auth=("__token__", "pshub_0000000000000000_" + "W" * 43),
            headers={"X-Request-ID": "trace-me-42"},
            files={"content": ("x.whl", b"x")},
        )
    assert r.status_code == 401
    ours = [rec for rec in caplog.records if rec.name.startswith("pysetl_hub_server")]
    (access,) = [rec for rec in ours if rec.name == "pysetl_hub_server.access"]
    assert access.request_id == "trace-me-42"  # type: ignore[attr-defined]
    assert access.route == "/legacy" and access.status == 401  # type: ignore[attr-defined]
    assert all(getattr(rec, "request_id", None) == "trace-me-42" for rec in ours), [
        (rec.name, rec.getMessage(), getattr(rec, "request_id", None)) for rec in ours
    ]
    # and outside a request, none
    logging.getLogger("pysetl_hub_server.test").warning("after")
    assert caplog.records[-1].request_id is None  # type: ignore[attr-defined]
