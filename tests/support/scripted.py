"""A loopback HTTP server that answers from a script and records what it was sent.

For behaviour a healthy hub never shows (503 with Retry-After, a redirect to another origin):
it is a real server on a real socket, so the client's real transport is what gets tested.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Scripted:
    url: str
    replies: list[Reply]
    seen: list[dict[str, str]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)


@contextmanager
def scripted_server(replies: list[Reply]) -> Iterator[Scripted]:
    state = Scripted("", list(replies))

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            state.seen.append({k.lower(): v for k, v in self.headers.items()})
            state.paths.append(self.path)
            length = int(self.headers.get("content-length") or 0)
            if length:
                self.rfile.read(length)
            reply = state.replies.pop(0) if state.replies else Reply(500, b"script exhausted")
            time.sleep(reply.delay)
            self.send_response(reply.status)
            for k, v in reply.headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
