"""The upload form parser: its limits, its errors, and no spool file left behind.

Bodies are written byte by byte here (not by an HTTP library) so each rule can be broken on
purpose; they go over a real server, except the chunking test, which feeds `parse_upload`
directly. The parser never touches the database, so SQLite alone is enough.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import socket
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from pysetl_hub_server.app import create_app
from pysetl_hub_server.errors import HubError
from pysetl_hub_server.publishing.multipart import MAX_HEADER_COUNT, MAX_HEADER_SIZE, parse_upload
from pysetl_hub_server.runtime import build_hub
from pysetl_hub_server.settings import UploadLimits
from pysetl_hub_server.units import human_size
from tests.conftest import start_hub
from tests.support.live import LiveServer
from tests.support.upload import form_for, problem, upload

WHEEL = "csv-dedupe:wheel"
BOUNDARY = "f0rm-b0undary"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"
LIMITS = UploadLimits()


def part(
    name: str | None,
    value: bytes | str,
    *,
    filename: str | None = None,
    headers: Sequence[str] = (),
) -> bytes:
    disposition = "form-data"
    if name is not None:
        disposition += f'; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    head = "\r\n".join([f"Content-Disposition: {disposition}", *headers])
    data = value.encode() if isinstance(value, str) else value
    return f"--{BOUNDARY}\r\n{head}\r\n\r\n".encode() + data + b"\r\n"


END = f"--{BOUNDARY}--\r\n".encode()


def fields_of(wheel: Path, **overrides: str) -> list[bytes]:
    """The text parts twine sends for this file."""
    return [part(k, str(v)) for k, v in form_for(wheel, **overrides).items()]


def content(wheel: Path, data: bytes | None = None) -> bytes:
    body = wheel.read_bytes() if data is None else data
    return part("content", body, filename=wheel.name, headers=["Content-Type: application/zip"])


def padding(count: int, **extra: str) -> list[bytes]:
    """Text parts the server ignores, to reach a part count or carry a header."""
    headers = [f"{k}: {v}" for k, v in extra.items()]
    return [part("comment", "x", headers=headers) for _ in range(count)]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    live = start_hub(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}")
    yield live
    live.stop()


@pytest.fixture
def token(server: LiveServer) -> str:
    return server.user_with_token("alice")


@pytest.fixture
def post(server: LiveServer, token: str) -> Iterator[Callable[[bytes], httpx.Response]]:
    with httpx.Client(base_url=server.url, timeout=30) as client:

        def send(body: bytes) -> httpx.Response:
            headers = {"Content-Type": CONTENT_TYPE}
            return client.post("/legacy/", content=body, headers=headers, auth=("__token__", token))

        yield send


@pytest.fixture
def wheel(example_dists: dict[str, Path]) -> Path:
    return example_dists[WHEEL]


def spooled(server: LiveServer) -> list[Path]:
    return list((server.settings.data_dir / "spool").iterdir())


def rejected(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = problem(response)
    assert body["code"] == code, body
    detail: str = body["detail"]
    return detail


def test_a_twine_shaped_upload_is_accepted(
    server: LiveServer, post: Callable[[bytes], httpx.Response], wheel: Path, token: str
) -> None:
    """The reference: what the rest of this module breaks on purpose, intact, publishes."""
    assert post(b"".join([*fields_of(wheel), content(wheel), END])).status_code == 200
    with httpx.Client(base_url=server.url) as client:  # httpx encodes it (twine: tests/interop)
        assert upload(client, token, wheel).status_code == 200
    assert spooled(server) == []


def test_part_count_is_capped(
    server: LiveServer, post: Callable[[bytes], httpx.Response], wheel: Path
) -> None:
    parts = [*fields_of(wheel), content(wheel)]
    at_cap = parts + padding(LIMITS.max_fields - len(parts))
    assert post(b"".join([*at_cap, END])).status_code == 200

    over = padding(1) + at_cap  # the file part is complete before the cap trips
    detail = rejected(post(b"".join([*over, END])), 400, "form.too_many_fields")
    assert str(LIMITS.max_fields) in detail
    assert spooled(server) == []


def test_header_line_size_is_capped(
    server: LiveServer, post: Callable[[bytes], httpx.Response], wheel: Path
) -> None:
    def with_header_line(length: int) -> bytes:
        pad = padding(1, **{"X-Pad": "a" * (length - len("X-Pad: "))})
        return b"".join([*fields_of(wheel), content(wheel), *pad, END])

    assert post(with_header_line(MAX_HEADER_SIZE)).status_code == 200
    detail = rejected(post(with_header_line(MAX_HEADER_SIZE + 1)), 400, "form.header_too_large")
    assert str(MAX_HEADER_SIZE) in detail
    assert spooled(server) == []


def test_a_header_line_without_its_end_is_capped(
    server: LiveServer, post: Callable[[bytes], httpx.Response], wheel: Path
) -> None:
    """A header line that never ends is refused once it outgrows the cap, not buffered."""
    endless = f"--{BOUNDARY}\r\nX-Pad: ".encode() + b"a" * (4 * MAX_HEADER_SIZE)
    body = b"".join([*fields_of(wheel), content(wheel), endless])
    rejected(post(body), 400, "form.header_too_large")
    assert spooled(server) == []


def test_header_count_is_capped(
    server: LiveServer, post: Callable[[bytes], httpx.Response], wheel: Path
) -> None:
    def with_headers(count: int) -> bytes:
        extra = {f"X-Pad-{i}": "1" for i in range(count - 1)}  # plus Content-Disposition
        return b"".join([*fields_of(wheel), content(wheel), *padding(1, **extra), END])

    assert post(with_headers(MAX_HEADER_COUNT)).status_code == 200
    rejected(post(with_headers(MAX_HEADER_COUNT + 1)), 400, "form.too_many_headers")
    assert spooled(server) == []


@pytest.mark.parametrize(
    "cut",
    [
        pytest.param(lambda body: body[: len(body) // 2], id="inside-the-file"),
        pytest.param(lambda body: body[: -len(END)], id="closing-boundary-missing"),
        pytest.param(lambda body: body[: -len(END) - 3], id="inside-the-last-delimiter"),
    ],
)
def test_a_truncated_body_is_a_bad_request_and_leaves_no_spool(
    server: LiveServer,
    post: Callable[[bytes], httpx.Response],
    wheel: Path,
    cut: Callable[[bytes], bytes],
) -> None:
    body = b"".join([*fields_of(wheel), content(wheel), END])
    detail = rejected(post(cut(body)), 400, "form.truncated")
    assert "closing boundary" in detail
    assert spooled(server) == []


@pytest.mark.parametrize("body", [b"", b"--" + BOUNDARY.encode()], ids=["empty", "no-parts"])
def test_a_body_without_any_part_is_truncated(
    post: Callable[[bytes], httpx.Response], body: bytes
) -> None:
    rejected(post(body), 400, "form.truncated")


def short_of_its_length(wheel: Path, token: str) -> bytes:
    """A raw upload request whose Content-Length promises 100 KB more than the body holds."""
    sent = b"".join(fields_of(wheel)) + content(wheel)[:-200]
    auth = base64.b64encode(f"__token__:{token}".encode()).decode()
    head = (
        "POST /legacy/ HTTP/1.1\r\nHost: hub\r\n"
        f"Authorization: Basic {auth}\r\nContent-Type: {CONTENT_TYPE}\r\n"
        f"Content-Length: {len(sent) + 100_000}\r\n\r\n"
    )
    return head.encode() + sent


def test_a_body_that_stops_short_of_its_length_times_out_cleanly(
    tmp_path: Path, example_dists: dict[str, Path]
) -> None:
    """A slow or short body (Content-Length promises more than ever comes) gets a 408 at the
    deadline, not a worker held forever, and its spool file is gone."""
    from pysetl_hub_server.settings import UploadLimits

    live = start_hub(
        tmp_path,
        f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}",
        uploads=UploadLimits(body_timeout=1),
    )
    try:
        short = short_of_its_length(
            example_dists["csv-dedupe:wheel"], live.user_with_token("alice")
        )
        url = urlsplit(live.url)
        with socket.create_connection((url.hostname, url.port), timeout=20) as sock:
            started = time.monotonic()
            sock.sendall(short)
            reply = b""
            while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                reply += chunk
            waited = time.monotonic() - started
        assert reply.startswith(b"HTTP/1.1 408"), reply[:200]
        assert b"upload.timeout" in reply and waited < 15
        assert spooled(live) == []
    finally:
        live.stop()


def test_a_client_that_disconnects_mid_file_leaves_no_spool(
    server: LiveServer, token: str, wheel: Path
) -> None:
    url = urlsplit(server.url)
    with socket.create_connection((url.hostname, url.port)) as sock:
        sock.sendall(short_of_its_length(wheel, token))
        wait_for(lambda: bool(spooled(server)), "the server never opened a spool file")
    wait_for(lambda: not spooled(server), "the spool file outlived the connection")


async def test_a_disconnect_mid_file_is_a_bad_request_and_leaves_no_spool(
    server: LiveServer, token: str, wheel: Path
) -> None:
    """Over ASGI, where the answer to a client that hung up can still be read: 400, not 500."""
    sent = b"".join(fields_of(wheel)) + content(wheel)[:-200]
    auth = base64.b64encode(f"__token__:{token}".encode())
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/legacy/",
        "raw_path": b"/legacy/",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"hub"),
            (b"authorization", b"Basic " + auth),
            (b"content-type", CONTENT_TYPE.encode()),
            (b"content-length", str(len(sent) + 100_000).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    messages = [{"type": "http.request", "body": sent, "more_body": True}]
    spool_at_disconnect: list[Path] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        spool_at_disconnect.extend(spooled(server))
        return {"type": "http.disconnect"}

    sent_back: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent_back.append(message)

    app = create_app(server.settings, hub=build_hub(server.settings))
    async with lifespan(app):
        await app(scope, receive, send)

    assert spool_at_disconnect, "the parser never opened a spool file"
    assert sent_back[0]["status"] == 400, sent_back
    body = b"".join(m.get("body", b"") for m in sent_back[1:])
    assert b'"form.truncated"' in body and b"disconnected" in body, body
    assert spooled(server) == []


@contextlib.asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """Run the app's ASGI lifespan on this event loop (what uvicorn does at start and stop)."""
    inbox: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    await inbox.put({"type": "lifespan.startup"})
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.create_task(app(scope, inbox.get, outbox.put))
    assert (await outbox.get())["type"] == "lifespan.startup.complete"
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        assert (await outbox.get())["type"] == "lifespan.shutdown.complete"
        await task


@pytest.mark.parametrize(
    ("tail", "reason"),
    [
        (f"--{BOUNDARY}XY".encode(), "Unexpected bytes after boundary"),
        (f"--{BOUNDARY}\r\nBad Name: 1\r\n\r\nx\r\n".encode(), "header name"),
        (f"--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nx\r\n".encode(), "Disposition"),
        (f"--{BOUNDARY}\r\nnot a header\r\n\r\nx\r\n".encode(), "Malformed"),
    ],
    ids=["bytes-after-boundary", "bad-header-name", "no-disposition", "no-colon"],
)
def test_a_malformed_body_is_a_bad_request_and_leaves_no_spool(
    server: LiveServer,
    post: Callable[[bytes], httpx.Response],
    wheel: Path,
    tail: bytes,
    reason: str,
) -> None:
    body = b"".join([*fields_of(wheel), content(wheel), tail, END])
    detail = rejected(post(body), 400, "form.malformed")
    assert reason in detail
    assert spooled(server) == []


@pytest.mark.parametrize(
    ("field", "cap"),
    [("summary", LIMITS.max_field_size), ("description", LIMITS.max_description_size)],
)
def test_each_field_has_its_own_cap(
    server: LiveServer,
    post: Callable[[bytes], httpx.Response],
    wheel: Path,
    field: str,
    cap: int,
) -> None:
    def with_field(size: int) -> bytes:
        # After the file, so the rejected body has a complete spool file to clean up.
        return b"".join([*fields_of(wheel), content(wheel), part(field, "s" * size), END])

    assert post(with_field(cap)).status_code == 200
    detail = rejected(post(with_field(cap + 1)), 413, "form.field_too_large")
    assert field in detail and human_size(cap) in detail
    assert spooled(server) == []


def test_a_refusal_before_the_body_is_read_closes_the_connection(
    post: Callable[[bytes], httpx.Response], wheel: Path
) -> None:
    """The rest of a refused body is never read: a client that reused the connection would have
    its next request lost in it, so the answer says `Connection: close`. Once the form is read,
    a refusal keeps the connection."""
    too_long = part("comment", "s" * (LIMITS.max_field_size + 1))
    r = post(b"".join([*fields_of(wheel), too_long, content(wheel), END]))
    rejected(r, 413, "form.field_too_large")
    assert r.headers.get("connection") == "close"
    r = post(b"".join([*fields_of(wheel, sha256_digest="0" * 64), content(wheel), END]))
    rejected(r, 400, "digest.mismatch")
    assert r.headers.get("connection") != "close"


def test_a_description_may_exceed_the_plain_field_cap(
    post: Callable[[bytes], httpx.Response], wheel: Path
) -> None:
    description = "d" * (LIMITS.max_field_size * 2)
    body = b"".join([*fields_of(wheel, description=description), content(wheel), END])
    assert post(body).status_code == 200


def test_form_rules_leave_no_spool(
    server: LiveServer, post: Callable[[bytes], httpx.Response], wheel: Path
) -> None:
    twice = b"".join([*fields_of(wheel), content(wheel), content(wheel), END])
    assert "more than one" in rejected(post(twice), 400, "form.content")

    no_filename = b"".join([*fields_of(wheel), part("content", b"x"), END])
    assert "filename" in rejected(post(no_filename), 400, "form.content")

    nameless = b"".join([*fields_of(wheel), content(wheel), part(None, "x"), END])
    rejected(post(nameless), 400, "form.part_name")

    latin1 = b"".join([*fields_of(wheel), content(wheel), part("summary", b"caf\xe9"), END])
    assert "'summary'" in rejected(post(latin1), 400, "form.encoding")
    assert spooled(server) == []


@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "multipart/form-data", "multipart/form-data; boundary="],
)
def test_the_body_must_be_multipart_with_a_boundary(
    server: LiveServer, token: str, wheel: Path, content_type: str
) -> None:
    body = b"".join([*fields_of(wheel), content(wheel), END])
    with httpx.Client(base_url=server.url) as client:
        r = client.post(
            "/legacy/",
            content=body,
            headers={"Content-Type": content_type},
            auth=("__token__", token),
        )
    rejected(r, 400, "form.content_type")


@pytest.mark.parametrize("size", [1, 7, 4096, 1 << 20])
def test_chunking_does_not_change_the_form(tmp_path: Path, wheel: Path, size: int) -> None:
    """A boundary or header split across ASGI chunks parses the same as one whole body."""
    data = wheel.read_bytes()
    body = b"".join([*fields_of(wheel), content(wheel), END])

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(body), size):
            yield body[i : i + size]

    form = asyncio.run(parse_upload(CONTENT_TYPE, chunks(), LIMITS, tmp_path))
    assert form.file is not None
    assert form.file.filename == wheel.name
    assert form.file.path.read_bytes() == data
    assert form.file.size == len(data)
    assert form.file.sha256 == hashlib.sha256(data).hexdigest()
    assert form.file.blake2b_256 == hashlib.blake2b(data, digest_size=32).hexdigest()
    assert form.file.md5 == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert form.fields == {k: [str(v)] for k, v in form_for(wheel).items()}


def wait_for(condition: Callable[[], bool], failure: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, failure
        time.sleep(0.02)


# -- the parser's rules, fed directly (no server) -------------------------------------------

SMALL = UploadLimits(
    max_file_size=100, max_field_size=10, max_description_size=20, max_attestations_size=30
)


def parse(
    body: bytes | list[bytes],
    spool: Path,
    limits: UploadLimits = SMALL,
    content_type: str | None = CONTENT_TYPE,
) -> Any:
    chunks = [body] if isinstance(body, bytes) else body

    async def stream() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    return asyncio.run(parse_upload(content_type, stream(), limits, spool))


def refused(body: bytes | list[bytes], tmp_path: Path, code: str, **kw: Any) -> HubError:
    spool = Path(tempfile.mkdtemp(dir=tmp_path))  # its own, so no earlier parse's file counts
    with pytest.raises(HubError) as info:
        parse(body, spool, **kw)
    assert info.value.code == code, info.value.detail
    assert list(spool.iterdir()) == []  # whatever failed, no spool file is left
    return info.value


def file_part(data: bytes, filename: str = "x-1.0.tar.gz") -> bytes:
    return part("content", data, filename=filename)


def test_the_file_and_repeated_fields_are_collected(tmp_path: Path) -> None:
    body = [
        part("classifiers", "A"),
        b"",  # an empty chunk does not end the body
        part("classifiers", "B") + file_part(b"f" * 100),
        part("description", "d" * 20) + part("attestations", "a" * 30) + END,
    ]
    form = parse(body, tmp_path)
    assert form.fields == {
        "classifiers": ["A", "B"],
        "description": ["d" * 20],
        "attestations": ["a" * 30],
    }
    assert form.file.filename == "x-1.0.tar.gz" and form.file.size == 100
    assert form.file.path.parent == tmp_path and form.file.path.read_bytes() == b"f" * 100


@pytest.mark.parametrize(
    ("field", "cap"), [("summary", 10), ("description", 20), ("attestations", 30)]
)
def test_each_text_field_stops_at_its_own_cap(tmp_path: Path, field: str, cap: int) -> None:
    assert parse(part(field, "é" * (cap // 2)) + END, tmp_path).fields == {
        field: ["é" * (cap // 2)]
    }
    body = [file_part(b"f"), part(field, "s" * (cap - 1)), b"ss" + END]
    error = refused(body, tmp_path, "form.field_too_large")
    assert error.status == 413
    assert error.detail == (f"the form field {field!r} is longer than its cap of {human_size(cap)}")


def test_the_file_stops_at_its_cap(tmp_path: Path) -> None:
    assert parse(file_part(b"f" * 100) + END, tmp_path).file.size == 100
    error = refused(
        [file_part(b"f" * 101)[:-40], b"f" * 38 + b"\r\n" + END], tmp_path, "upload.too_large"
    )
    assert error.status == 413
    assert error.detail.startswith(f"the file is larger than this hub's cap of {human_size(100)}: ")
    assert error.detail.endswith("ask the operator to raise PYSETL_HUB_MAX_UPLOAD_SIZE")


@pytest.mark.parametrize(
    ("body", "code", "says"),
    [
        (part(None, "x"), "form.part_name", "a form part has no name in its Content-Disposition"),
        (part("", "x"), "form.part_name", "a form part has no name in its Content-Disposition"),
        (part("content", "x"), "form.content", "the `content` part must be a file with a filename"),
        (
            file_part(b"1") + file_part(b"2"),
            "form.content",
            "the form has more than one `content` part",
        ),
        (
            part("summary", b"caf\xe9"),
            "form.encoding",
            "the form field 'summary' is not valid UTF-8",
        ),
        (
            b"--" + BOUNDARY.encode() + b"\r\nno colon\r\n\r\nx\r\n",
            "form.malformed",
            "the multipart body is malformed: ",
        ),
    ],
)
def test_each_form_rule_has_its_code(tmp_path: Path, body: bytes, code: str, says: str) -> None:
    error = refused(file_part(b"f") + body + END, tmp_path, code)
    assert error.detail.startswith(says) and error.status == 400


@pytest.mark.parametrize(
    "content_type",
    [None, "", "text/plain; boundary=x", "multipart/mixed; boundary=x", "multipart/form-data"],
)
def test_only_multipart_form_data_with_a_boundary(tmp_path: Path, content_type: str | None) -> None:
    error = refused(END, tmp_path, "form.content_type", content_type=content_type)
    assert (
        error.detail == "uploads must be multipart/form-data with a boundary, as twine sends them"
    )


def test_an_unusable_boundary_is_named(tmp_path: Path) -> None:
    boundary = "a\nb"  # a quoted boundary may hold what no body could ever delimit with
    error = refused(
        END,
        tmp_path,
        "form.content_type",
        content_type=f'multipart/form-data; boundary="{boundary}"',
    )
    assert error.detail.startswith(f"the multipart boundary {boundary!r} is not usable: ")


def test_a_body_cut_short_is_truncated(tmp_path: Path) -> None:
    error = refused(file_part(b"f" * 50), tmp_path, "form.truncated")
    assert error.detail == (
        "the upload body ended before the multipart form's closing boundary: it was cut "
        "short in transit; upload the file again"
    )


def test_each_parser_limit_has_its_code(tmp_path: Path) -> None:
    limits = UploadLimits(max_fields=3)
    at_cap = file_part(b"f") + b"".join(padding(2))
    assert parse(at_cap + END, tmp_path, limits).file.size == 1
    error = refused(
        at_cap + b"".join(padding(1)) + END, tmp_path, "form.too_many_fields", limits=limits
    )
    assert error.detail == "the upload form has more than 3 parts"

    line = padding(1, **{"X-Pad": "a" * (MAX_HEADER_SIZE - len("X-Pad: ") + 1)})
    error = refused([file_part(b"f"), *line, END], tmp_path, "form.header_too_large")
    assert error.detail == f"a form part has a header line longer than {MAX_HEADER_SIZE} bytes"

    many = padding(1, **{f"X-{i}": "1" for i in range(MAX_HEADER_COUNT)})
    error = refused([file_part(b"f"), *many, END], tmp_path, "form.too_many_headers")
    assert error.detail == f"a form part has more than {MAX_HEADER_COUNT} headers"
