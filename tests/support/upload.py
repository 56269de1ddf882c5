"""Send an upload the way twine does (same form fields, HTTP Basic with __token__)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import httpx


def form_for(path: Path, **overrides: Any) -> dict[str, Any]:
    data = path.read_bytes()
    if path.name.endswith(".whl"):
        name, version = path.name.split("-")[:2]
        filetype, pyversion = "bdist_wheel", "py3"
    else:
        stem = path.name.removesuffix(".tar.gz")
        name, _, version = stem.rpartition("-")
        filetype, pyversion = "sdist", "source"
    fields: dict[str, Any] = {
        ":action": "file_upload",
        "protocol_version": "1",
        "metadata_version": "2.4",
        "name": name,
        "version": version,
        "filetype": filetype,
        "pyversion": pyversion,
        "sha256_digest": hashlib.sha256(data).hexdigest(),
        "blake2_256_digest": hashlib.blake2b(data, digest_size=32).hexdigest(),
    }
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


def upload(
    client: httpx.Client,
    token: str | None,
    path: Path,
    *,
    content: bytes | None = None,
    filename: str | None = None,
    **fields: Any,
) -> httpx.Response:
    body = content if content is not None else path.read_bytes()
    auth = ("__token__", token) if token else None
    return client.post(
        "/legacy/",
        data=form_for(path, **fields),
        files={"content": (filename or path.name, body, "application/octet-stream")},
        auth=auth,
    )


def problem(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/problem+json"), (
        response.status_code,
        response.text[:500],
    )
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code
    return body
