"""A finished answer goes out exactly as built, and refuses anything layered on top of it."""

from __future__ import annotations

from litestar import Response, get, route
from litestar.datastructures import ResponseHeader
from litestar.testing import create_test_client

from pysetl_hub_server.answers import file_answer
from pysetl_hub_server.finished import Finished

ANSWER = file_answer("a" * 64, "x-1.0-py3-none-any.whl", b"wheel bytes")


@route("/plain", http_method=["GET", "HEAD"], sync_to_thread=False)
def plain() -> Response[bytes]:
    return Finished(200, ANSWER.headers, ANSWER.body)


@get("/layered", sync_to_thread=False, response_headers=[ResponseHeader(name="X-Extra", value="1")])
def layered() -> Response[bytes]:
    return Finished(200, ANSWER.headers, ANSWER.body)


def test_sent_as_built_and_empty_on_head() -> None:
    with create_test_client([plain]) as client:
        r = client.get("/plain")
        assert r.status_code == 200 and r.content == b"wheel bytes"
        assert [(k.encode(), v.encode()) for k, v in r.headers.items()] == list(ANSWER.headers)
        head = client.head("/plain")
        assert head.content == b"" and head.headers["content-length"] == str(len(b"wheel bytes"))


def test_layered_headers_are_refused_not_silently_dropped() -> None:
    with create_test_client([layered], debug=False) as client:
        assert client.get("/layered").status_code == 500


async def test_head_sends_no_body_over_asgi() -> None:
    """Checked on the raw ASGI messages: HTTP clients drop a HEAD body themselves."""
    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    asgi = Finished(200, ANSWER.headers, ANSWER.body).to_asgi_response(None, None)
    for method in ("HEAD", "GET"):
        scope = {"type": "http", "method": method}
        await asgi(scope, None, send)  # type: ignore[arg-type]
    assert [m.get("body") for m in sent if m["type"] == "http.response.body"] == [
        b"",
        b"wheel bytes",
    ]
