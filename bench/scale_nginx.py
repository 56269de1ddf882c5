"""Debian's nginx in front of a few hub servers (round robin), for bench/scale_bench.py."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.postgres import free_port

NGINX = "/usr/sbin/nginx"
CONF = """
daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream hubs {{
        {servers}
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://hubs;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
        }}
    }}
}}
"""


@contextmanager
def nginx_in_front(bases: list[str], work: Path) -> Iterator[str]:
    where = work / f"nginx-{free_port()}"
    where.mkdir(parents=True)
    port = free_port()
    servers = "\n        ".join(f"server {b.removeprefix('http://')};" for b in bases)
    conf = where / "nginx.conf"
    conf.write_text(CONF.format(dir=where, servers=servers, port=port))
    proc = subprocess.Popen(
        [NGINX, "-c", str(conf), "-p", str(where)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    front = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                if httpx.get(f"{front}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nginx did not start: {(where / 'error.log').read_text()}")
            time.sleep(0.05)
        yield front
    finally:
        proc.terminate()
        proc.wait(timeout=10)
