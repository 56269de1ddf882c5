"""Debian's nginx (/usr/sbin/nginx) in front of hub replicas: a generated config in a temp dir,
run in the foreground as a subprocess of its own process group.

The config is the reference one in small: round-robin over the replicas, keep-alive upstream
connections, a failed connection (a replica restarting) retried on the next replica for
idempotent requests, large uploads passed through unbuffered, and long-lived cache headers on
the immutable `/files/` answers (not on redirects to presigned URLs, which expire).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.parts import missing
from tests.support.postgres import free_port
from tests.support.procs import stop_group

DEFAULT_BINARY = "/usr/sbin/nginx"

CONFIG = """\
{user}
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log {root}/access.log;
    client_body_temp_path {root}/client_body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    client_max_body_size 100m;

    upstream hub {{
{servers}
        keepalive 32;
    }}

    # Files are content-addressed and never change: cacheable for a year wherever they are
    # answered whole (or not modified); anything else keeps the hub's own header.
    map $upstream_status $files_cache_control {{
        ~(^|\\s)200$ "public, max-age=31536000, immutable";
        ~(^|\\s)304$ "public, max-age=31536000, immutable";
        default $upstream_http_cache_control;
    }}

    server {{
        listen 127.0.0.1:{port};

        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        # A replica that refuses or drops the connection (restarting) is skipped; nginx only
        # retries requests that are safe to send twice (never a POST).
        proxy_next_upstream error timeout;
        proxy_next_upstream_tries 3;
        proxy_connect_timeout 2s;
        proxy_read_timeout 60s;
        proxy_request_buffering off;

        location /files/ {{
            proxy_pass http://hub;
            proxy_hide_header Cache-Control;
            add_header Cache-Control $files_cache_control always;
        }}

        location / {{
            proxy_pass http://hub;
        }}
    }}
}}
"""


def find_nginx() -> Path | None:
    """Debian's nginx; PYSETL_HUB_TEST_NGINX overrides (a path that is not there: "not
    installed")."""
    candidate = os.environ.get("PYSETL_HUB_TEST_NGINX") or DEFAULT_BINARY
    if os.access(candidate, os.X_OK):
        return Path(candidate)
    found = None if os.environ.get("PYSETL_HUB_TEST_NGINX") else shutil.which("nginx")
    return Path(found) if found else None


@dataclass
class Nginx:
    binary: Path
    root: Path
    port: int
    upstreams: list[str]
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self) -> str:
        user = "user root root;" if os.geteuid() == 0 else ""  # workers write the temp dirs
        servers = "\n".join(
            f"        server {u} max_fails=1 fail_timeout=2s;" for u in self.upstreams
        )
        return CONFIG.format(user=user, root=self.root, port=self.port, servers=servers)

    def start(self) -> None:
        conf = self.root / "nginx.conf"
        conf.write_text(self.config())
        subprocess.run(
            [str(self.binary), "-t", "-q", "-c", str(conf), "-p", str(self.root)],
            check=True,
            capture_output=True,
            timeout=30,
        )
        self.proc = subprocess.Popen(
            [str(self.binary), "-c", str(conf), "-p", str(self.root)],
            stdout=(self.root / "stdout.log").open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{self.url}/healthz", timeout=2)
                return
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                log = (self.root / "error.log").read_text(errors="replace")
                self.stop()
                raise RuntimeError(f"nginx did not start:\n{log}")
            time.sleep(0.05)

    def stop(self) -> None:
        stop_group(self.proc)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def start(upstreams: list[str]) -> Nginx:
    binary = find_nginx()
    if binary is None:
        raise FileNotFoundError("nginx is not installed")
    root = Path(tempfile.mkdtemp(prefix="pysetl-hub-nginx-"))
    server = Nginx(binary, root, free_port(), upstreams)
    server.start()
    return server


def start_or_missing(upstreams: list[str]) -> Nginx:
    """`start()`, or the missing-part answer: a skip naming the fix, a failure under CI=true."""
    try:
        return start(upstreams)
    except FileNotFoundError:
        missing("nginx (/usr/sbin/nginx)", "`make test` installs it (apt-get install nginx)")
