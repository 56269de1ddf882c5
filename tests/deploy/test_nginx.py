"""deploy/nginx/nginx.conf, run for real: Debian's nginx checks it (`nginx -t`), then serves
HTTPS on loopback in front of two small HTTP servers standing in for the hub replicas, so the
headers, limits and retries are what nginx does, not what the file seems to say.

The copy that runs differs only where a test machine must: upstream host names become loopback
ports, the listen ports free loopback ports, /run/secrets/ a throwaway certificate made here,
/tmp/ a scratch directory, and one worker process (so round robin is deterministic).
"""

from __future__ import annotations

import datetime
import http.client
import ipaddress
import json
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pysetl_hub_server.settings import DEFAULT_MAX_UPLOAD
from tests.support.parts import missing
from tests.support.postgres import free_port

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "deploy" / "nginx" / "nginx.conf"
IMMUTABLE = "public, max-age=31536000, immutable"
SHA = "ab" * 32


def nginx_binary() -> str:
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if found is None:
        missing("nginx", "apt-get install nginx (make test runs scripts/system-deps.sh)")
    return found


def certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, valid for an hour."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "tls_cert", directory / "tls_key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class Ports:
    http: int = field(default_factory=free_port)
    https: int = field(default_factory=free_port)
    health: int = field(default_factory=free_port)


def render(scratch: Path, upstreams: list[int], ports: Ports) -> Path:
    """The compose config, changed only where this machine must differ from the container."""
    text = CONF.read_text()
    cert, key = certificate(scratch)
    swaps = [
        (r"(\s)/tmp/nginx", rf"\g<1>{scratch}/nginx"),
        (r"(server\s+)hub-1:8000", rf"\g<1>127.0.0.1:{upstreams[0]}"),
        (r"(server\s+)hub-2:8000", rf"\g<1>127.0.0.1:{upstreams[1]}"),
        (r"/run/secrets/tls_cert;", f"{cert};"),
        (r"/run/secrets/tls_key;", f"{key};"),
        (r"listen 127\.0\.0\.1:8081;", f"listen 127.0.0.1:{ports.health};"),
        (r"listen 80;", f"listen 127.0.0.1:{ports.http};"),
        (r"listen 443 ssl", f"listen 127.0.0.1:{ports.https} ssl"),
        (r"worker_processes auto;", "worker_processes 1;"),
    ]
    for pattern, replacement in swaps:
        text, count = re.subn(pattern, replacement, text)
        assert count >= 1, f"nginx.conf no longer has {pattern!r}: update this test's render"
    directives = re.sub(r"#[^\n]*", "", text)
    assert not re.search(r"hub-\d|/run/secrets|\s/tmp/nginx", directives), (
        "a container path is left"
    )
    path = scratch / "nginx.conf"
    path.write_text(text)
    return path


class Replica(ThreadingHTTPServer):
    """A stand-in hub replica: answers like the hub does on the routes nginx treats apart,
    and remembers every request it saw."""

    daemon_threads = True

    def __init__(self, name: str, *, fail: bool = False) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.name, self.fail = name, fail
        self.seen: list[tuple[str, str, dict[str, str], int]] = []
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Replica

    def log_message(self, format: str, *args: object) -> None:
        return

    def answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        remaining = length
        while remaining:
            remaining -= len(self.rfile.read(min(remaining, 1 << 20)))
        self.server.seen.append((self.command, self.path, dict(self.headers.items()), length))
        if self.server.fail:  # a replica going away mid-request: the connection drops
            self.close_connection = True
            return
        status, headers = 200, {"Cache-Control": "no-cache"}
        if self.path.startswith("/api/v1/search"):  # the hub's answer while search is down
            status, headers = 503, {"Retry-After": "5", "Content-Type": "application/problem+json"}
        elif self.path == f"/files/{SHA}/x-1.0-py3-none-any.whl":
            headers = {"Cache-Control": "public, max-age=60", "ETag": '"f"'}
        elif self.path.startswith("/files/") and self.path.endswith("presigned.whl"):
            status = 302
            headers = {"Location": "https://s3.example/x?sig=1", "Cache-Control": "private"}
        elif self.path.startswith("/files/"):
            status, headers = 404, {"Cache-Control": "no-store"}
        elif self.path.startswith("/simple/"):
            headers = {"Cache-Control": "no-cache", "ETag": '"page-7"'}
        body = json.dumps({"replica": self.server.name}).encode()
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_HEAD = answer


@dataclass
class Front:
    ports: Ports
    cert: Path
    replicas: list[Replica]

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        context = ssl.create_default_context(cafile=str(self.cert))
        conn = http.client.HTTPSConnection(
            "127.0.0.1", self.ports.https, context=context, timeout=20
        )
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return (
                response.status,
                {k.lower(): v for k, v in response.getheaders()},
                response.read(),
            )
        finally:
            conn.close()


def start(tmp_path: Path, replicas: list[Replica], upstream_ports: list[int]) -> Iterator[Front]:
    binary = nginx_binary()
    ports = Ports()
    conf = render(tmp_path, upstream_ports, ports)
    log = (tmp_path / "nginx.log").open("wb")
    proc = subprocess.Popen(
        [binary, "-p", str(tmp_path), "-c", str(conf), "-g", "daemon off;"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", ports.health), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"nginx did not start: {(tmp_path / 'nginx.log').read_text()}")
                time.sleep(0.05)
        yield Front(ports, tmp_path / "tls_cert", replicas)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
        for replica in replicas:
            replica.shutdown()
            replica.server_close()


@pytest.fixture(scope="module")
def front(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Front]:
    replicas = [Replica("hub-1"), Replica("hub-2")]
    yield from start(tmp_path_factory.mktemp("nginx"), replicas, [r.port for r in replicas])


def test_nginx_accepts_the_config(tmp_path: Path) -> None:
    binary = nginx_binary()
    conf = render(tmp_path, [free_port(), free_port()], Ports())
    done = subprocess.run(
        [binary, "-t", "-p", str(tmp_path), "-c", str(conf)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr


def test_a_file_found_is_cached_for_a_year_and_nothing_else_is(front: Front) -> None:
    status, headers, _ = front.request("GET", f"/files/{SHA}/x-1.0-py3-none-any.whl")
    assert status == 200 and headers["cache-control"] == IMMUTABLE
    assert headers["etag"] == '"f"'
    status, headers, _ = front.request("GET", f"/files/{SHA}/gone-1.0.tar.gz")
    assert status == 404 and headers["cache-control"] == "no-store"
    status, headers, _ = front.request("GET", f"/files/{SHA}/presigned.whl")
    assert status == 302 and headers["cache-control"] == "private"  # the URL expires


def test_simple_pages_keep_the_hubs_own_cache_headers(front: Front) -> None:
    status, headers, _ = front.request("GET", "/simple/csv-dedupe/")
    assert status == 200
    assert headers["cache-control"] == "no-cache" and headers["etag"] == '"page-7"'
    assert "expires" not in headers
    assert headers["strict-transport-security"].startswith("max-age=")


def test_the_hub_is_told_who_asked(front: Front) -> None:
    given = uuid.uuid4().hex
    front.request("GET", "/api/v1/who", headers={"X-Request-ID": given, "Host": "hub.example"})
    front.request("GET", "/api/v1/who-else")
    seen = {path: headers for r in front.replicas for _, path, headers, _ in r.seen}
    first, second = seen["/api/v1/who"], seen["/api/v1/who-else"]
    assert first["X-Forwarded-For"] == "127.0.0.1" and first["X-Real-IP"] == "127.0.0.1"
    assert first["X-Forwarded-Proto"] == "https" and first["Host"] == "hub.example"
    assert first["X-Request-ID"] == given
    assert re.fullmatch(r"[0-9a-f]{32}", second["X-Request-ID"])  # made by nginx


def test_plain_http_is_redirected_to_https(front: Front) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", front.ports.http, timeout=10)
    conn.request("GET", "/simple/", headers={"Host": "hub.example"})
    response = conn.getresponse()
    assert response.status == 301
    assert response.getheader("Location") == "https://hub.example/simple/"
    conn.close()


def test_uploads_may_be_large_and_nothing_else_may(front: Front) -> None:
    limit = re.search(r"location /legacy/ \{[^}]*client_max_body_size (\d+)m;", CONF.read_text())
    assert limit is not None and int(limit.group(1)) * 1024 * 1024 > DEFAULT_MAX_UPLOAD
    body = b"x" * (2 * 1024 * 1024)  # over the 1m default, far under the upload limit
    status, _, _ = front.request("POST", "/legacy/", body=body)
    assert status == 200
    assert any(p == "/legacy/" and n == len(body) for r in front.replicas for _, p, _, n in r.seen)
    status, _, _ = front.request("POST", "/api/v1/tokens", body=body)
    assert status == 413


def test_requests_are_spread_over_both_replicas(front: Front) -> None:
    before = [len(r.seen) for r in front.replicas]
    for _ in range(10):
        assert front.request("GET", "/")[0] == 200
    after = [len(r.seen) for r in front.replicas]
    assert all(a > b for a, b in zip(after, before, strict=True)), (before, after)


def test_a_replica_that_refuses_connections_costs_no_failed_request(tmp_path: Path) -> None:
    live = Replica("hub-2")
    dead = free_port()  # nothing listens here
    for front in start(tmp_path, [live], [dead, live.port]):
        statuses = [front.request("GET", f"/simple/n{i}/")[0] for i in range(12)]
        assert statuses == [200] * 12


def test_idempotent_requests_are_retried_and_a_publish_is_never_sent_twice(
    tmp_path: Path,
) -> None:
    failing, ok = Replica("hub-1", fail=True), Replica("hub-2")
    for front in start(tmp_path, [failing, ok], [failing.port, ok.port]):
        posts = {}
        # Round robin: one of each pair reaches the replica that drops connections. Uploads
        # are streamed unbuffered (never retryable once sent); other POSTs are buffered, and
        # must not be retried either.
        for path in ("/api/v1/tokens", "/api/v1/tokens", "/legacy/", "/legacy/"):
            upload = uuid.uuid4().hex
            posts[upload] = front.request("POST", f"{path}?u={upload}", body=b"wheel")[0]
        gets = [front.request("GET", f"/simple/g{i}/")[0] for i in range(2)]
        assert gets == [200, 200]
        assert any(m == "GET" for m, _, _, _ in failing.seen)  # tried there, answered here
        for upload, status in posts.items():
            copies = [r.name for r in (failing, ok) for _, p, _, _ in r.seen if upload in p]
            assert len(copies) == 1, (upload, copies)
            assert status == (502 if copies == ["hub-1"] else 200)  # nginx's own 502
        assert sorted(posts.values()) == [200, 200, 502, 502]


def test_the_hubs_own_503_reaches_the_client_and_keeps_the_replica_in(front: Front) -> None:
    """Search (or the database) down is the same outage on every replica: the 503 is the
    answer, and counting it as a failed replica would take every replica out of the pool."""
    for _ in range(8):  # beyond max_fails=3 on each replica
        status, headers, body = front.request("GET", "/api/v1/search?q=csv")
        assert status == 503 and headers["retry-after"] == "5"
        assert json.loads(body)["replica"] in ("hub-1", "hub-2")  # the hub's body, not nginx's
    before = [len(r.seen) for r in front.replicas]
    for _ in range(6):
        assert front.request("GET", "/simple/")[0] == 200
    after = [len(r.seen) for r in front.replicas]
    assert all(a > b for a, b in zip(after, before, strict=True)), (before, after)


def test_metrics_are_not_served_at_the_edge(front: Front) -> None:
    """/metrics is scraped inside the network; the hub also answers `/metrics/`, so both
    spellings (and anything under them) stop at nginx and never reach a replica."""
    for path in ("/metrics", "/metrics/", "/metrics/x", "/metrics?x=1"):
        status, _, _ = front.request("GET", path)
        assert status == 404, path
    assert not any(p.startswith("/metrics") for r in front.replicas for _, p, _, _ in r.seen)
