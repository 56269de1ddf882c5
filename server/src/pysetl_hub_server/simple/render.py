"""Render index pages: PEP 503 HTML and PEP 691 JSON, with PEP 592/629/658/700/714/740 data.

Pages are derived data, rendered once per change and served from memory (simple/cache.py).
"""

from __future__ import annotations

from html import escape
from typing import Any

import msgspec

from pysetl_hub_server.simple.services import ProjectSnapshot, RootSnapshot

API_VERSION = "1.1"  # PEP 700 (versions, size, upload-time)


def _meta(serial: int) -> dict[str, Any]:
    return {"api-version": API_VERSION, "_last-serial": serial}


def project_json(p: ProjectSnapshot) -> bytes:
    files = []
    for f in p.files:
        meta: dict[str, str] | bool = {"sha256": f.metadata_sha256} if f.metadata_sha256 else False
        entry: dict[str, Any] = {
            "filename": f.filename,
            "url": f.url,
            "hashes": {"sha256": f.sha256},
            "requires-python": f.requires_python,
            "core-metadata": meta,
            "data-dist-info-metadata": meta,  # PEP 714: the old key too, for older pips
            "size": f.size,
            "upload-time": f.upload_time.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "yanked": f.yanked if f.yanked else (f.yanked is not None),
            "provenance": f.provenance,  # PEP 740
        }
        files.append(entry)
    body = {"meta": _meta(p.serial), "name": p.name, "versions": p.versions, "files": files}
    return msgspec.json.encode(body)


def project_html(p: ProjectSnapshot) -> bytes:
    lines = [
        "<!DOCTYPE html>",
        "<html>",
        "<head>",
        f'<meta name="pypi:repository-version" content="{API_VERSION}">',
        f"<title>Links for {escape(p.name)}</title>",
        "</head>",
        "<body>",
        f"<h1>Links for {escape(p.name)}</h1>",
    ]
    for f in p.files:
        attrs = [f'href="{escape(f.url)}#sha256={f.sha256}"']
        if f.requires_python:
            attrs.append(f'data-requires-python="{escape(f.requires_python)}"')
        if f.metadata_sha256:
            attrs.append(f'data-core-metadata="sha256={f.metadata_sha256}"')
            attrs.append(f'data-dist-info-metadata="sha256={f.metadata_sha256}"')
        if f.yanked is not None:
            attrs.append(f'data-yanked="{escape(f.yanked)}"')
        if f.provenance:
            attrs.append(f'data-provenance="{escape(f.provenance)}"')
        lines.append(f"<a {' '.join(attrs)}>{escape(f.filename)}</a><br>")
    lines += ["</body>", "</html>", ""]
    return "\n".join(lines).encode()


def root_json(r: RootSnapshot) -> bytes:
    return msgspec.json.encode(
        {
            "meta": _meta(r.serial),
            "projects": [{"name": display, "_last-serial": s} for _, display, s in r.projects],
        }
    )


def root_html(r: RootSnapshot) -> bytes:
    lines = [
        "<!DOCTYPE html>",
        "<html>",
        "<head>",
        f'<meta name="pypi:repository-version" content="{API_VERSION}">',
        "<title>Simple index</title>",
        "</head>",
        "<body>",
    ]
    lines += [
        f'<a href="/simple/{escape(name)}/">{escape(display)}</a><br>'
        for name, display, _ in r.projects
    ]
    lines += ["</body>", "</html>", ""]
    return "\n".join(lines).encode()
