"""A webhook receiver on loopback that answers as scripted: errors, slowness, redirects, then
success. It records every request it gets (headers, raw body, time)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    answered: int | None = None


@dataclass
class Receiver:
    url: str
    # Given the request's number (0, 1, ...), the status to answer, or "slow" (no answer in
    # time) or "redirect" (a 302 to /elsewhere).
    script: Callable[[int], int | str]
    got: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, test: Callable[[list[Received]], bool], seconds: float = 20) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self.lock:
                if test(list(self.got)):
                    return
            time.sleep(0.05)
        raise AssertionError(f"the receiver did not get what was expected: {self.got!r}")


@contextmanager
def receiver(script: Callable[[int], int | str]) -> Iterator[Receiver]:
    holder: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            rec = holder[0]
            with rec.lock:
                n = len([g for g in rec.got if g.path == self.path])
                record = Received(self.path, dict(self.headers.items()), body, time.monotonic())
                rec.got.append(record)
            action = rec.script(n) if self.path != "/elsewhere" else 200
            if action == "slow":
                time.sleep(3.0)  # past the hub's timeout (tests/server/feed/conftest.py)
                action = 200
            if action == "redirect":
                self.send_response(302)
                self.send_header("Location", "/elsewhere")
                record.answered = 302
            else:
                assert isinstance(action, int)
                self.send_response(action)
                record.answered = action
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # quiet
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    holder.append(Receiver(f"http://127.0.0.1:{server.server_address[1]}/hook", script))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder[0]
    finally:
        server.shutdown()
        server.server_close()
