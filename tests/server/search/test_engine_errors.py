"""A search engine that answers, but with a failure (a 5xx) or a refusal of the hub's key (401,
403), is an outage like one that does not answer: search is the 503 `search.unavailable`, never
a 500, and the problem does not show the key. No Meilisearch can be installed here, so a small
HTTP server on loopback answers every request as Meilisearch answers such errors."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import start_hub
from tests.support.sigstore_instance import SigstoreInstance
from tests.support.upload import problem

KEY = "meili-master-key-never-shown"
ERRORS = {
    500: {"message": "internal error", "code": "internal", "type": "internal"},
    401: {
        "message": "The provided API key is invalid.",
        "code": "invalid_api_key",
        "type": "auth",
    },
    403: {
        "message": "The provided API key is invalid.",
        "code": "invalid_api_key",
        "type": "auth",
    },
}


class _Failing(http.server.BaseHTTPRequestHandler):
    status = 500

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        if self.path == "/health":  # as Meilisearch: open to all, whatever the key
            self._send(200, json.dumps({"status": "available"}))
            return
        self._send(
            self.status, json.dumps({**ERRORS[self.status], "link": "https://docs.meilisearch.com"})
        )

    def _send(self, status: int, body: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def engine_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("status", sorted(ERRORS))
def test_an_engine_that_fails_or_refuses_the_key_is_a_503(
    status: int, engine_url: str, tmp_path: Path, sigstore: SigstoreInstance
) -> None:
    _Failing.status = status
    live = start_hub(
        tmp_path,
        f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}",
        search_url=engine_url,
        search_key=KEY,
        sigstore_trust_root=sigstore.trusted_root,
    )
    try:
        with httpx.Client(base_url=live.url, timeout=30) as http:
            searched = http.get("/api/v1/search", params={"q": "csv"})
            assert searched.status_code == 503, searched.text
            assert problem(searched)["code"] == "search.unavailable"
            assert int(searched.headers["retry-after"]) > 0
            assert KEY not in searched.text
            # Readiness asks the engine's health, not a search: the failure shows all the same.
            ready = http.get("/readyz").json()
            assert ready["status"] == "degraded" and ready["parts"]["search"]["status"] == "error"
    finally:
        live.stop()
