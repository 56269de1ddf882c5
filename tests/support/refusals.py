"""Table-driven refusal cases: build a bad upload, send it, check the problem and the residue.

A `Refusal` is data: an id, the status and problem `code` the hub must answer with, a `send`
function that builds the request from a `Ctx`, and optionally a phrase the problem's detail
must hold (when one code covers several checks, it names the one that must refuse).

The context gives each case its own component name (so a case the hub wrongly accepts cannot
change what another case sees), its own work directory, real distributions built from
examples/ and renamed for the case, and the tokens of two users. `send` may publish what the
case needs first (a release to collide with, another user's component); the residue snapshot
is taken after it returns, right before the refused request.
"""

from __future__ import annotations

import re
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx

from tests.support.dists import Members, repack, repack_sdist
from tests.support.live import LiveServer
from tests.support.residue import assert_no_residue, snapshot
from tests.support.upload import form_for, problem
from tests.support.zipedit import Layout, layout

OWNER: Literal["owner"] = "owner"


@dataclass(frozen=True)
class Send:
    """One request to `POST /legacy/`, as twine would send it unless told otherwise.

    The form fields (name, version, filetype, digests) are computed from the file at `path`;
    `fields` overrides them (None drops one). `filename` replaces the name of the `content`
    part, `content` its bytes (the digests still describe the file at `path`). `raw` sends a
    hand-made body with its own Content-Type instead of any of that. `auth` is the owner's token
    by default, or the Basic credentials to send, or None for none.
    """

    path: Path | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    filename: str | None = None
    content: bytes | None = None
    auth: tuple[str, str] | Literal["owner"] | None = OWNER
    raw: tuple[bytes, str] | None = None

    def post(self, ctx: Ctx) -> httpx.Response:
        auth = ("__token__", ctx.alice) if self.auth == OWNER else self.auth
        if self.raw is not None:
            body, content_type = self.raw
            return ctx.http.post(
                "/legacy/", content=body, headers={"Content-Type": content_type}, auth=auth
            )
        assert self.path is not None, "a Send needs a file or a raw body"
        data = self.path.read_bytes() if self.content is None else self.content
        return ctx.http.post(
            "/legacy/",
            data=form_for(self.path, **self.fields),
            files={"content": (self.filename or self.path.name, data, "application/octet-stream")},
            auth=auth,
        )


@dataclass(frozen=True)
class Refusal:
    id: str  # unique in its family; also names the case's component
    status: int
    code: str
    send: Callable[[Ctx], Send]
    says: str | None = None  # a phrase the problem's detail must hold (which check refused)

    def __str__(self) -> str:
        return self.id


@dataclass
class World:
    """One live hub shared by a module's cases, and what every case gets from it."""

    live: LiveServer
    http: httpx.Client
    dists: dict[str, Path]
    root: Path
    alice: str
    mallory: str

    def ctx(self, family: str, case: str) -> Ctx:
        name = f"{family}-{case}"
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name), f"case id {case!r}: [a-z0-9-]"
        work = self.root / name
        work.mkdir(parents=True)  # fails if two cases share an id: they would share a name
        return Ctx(self, name, work)


@dataclass
class Ctx:
    world: World
    name: str  # this case's component name, normalized, unique on the server
    work: Path

    @property
    def live(self) -> LiveServer:
        return self.world.live

    @property
    def http(self) -> httpx.Client:
        return self.world.http

    @property
    def alice(self) -> str:
        """The token of the user who uploads (and owns what the case publishes)."""
        return self.world.alice

    @property
    def mallory(self) -> str:
        """The token of another user, with no role on the case's component."""
        return self.world.mallory

    @property
    def stem_name(self) -> str:
        """The name as filenames spell it."""
        return self.name.replace("-", "_")

    def _dir(self, label: str) -> Path:
        n = 0
        while (self.work / f"{label}{n}").exists():
            n += 1
        path = self.work / f"{label}{n}"
        path.mkdir()
        return path

    def wheel(
        self,
        version: str = "1.0.0",
        *,
        name: str | None = None,
        example: str = "csv-dedupe",
        mutate: Callable[[Members], None] | None = None,
        tamper: Callable[[Members], None] | None = None,
        filename: str | None = None,
    ) -> Path:
        """The example's real wheel, renamed to this case's component (or `name`); `mutate`
        changes members before RECORD is rewritten to match, `tamper` after (RECORD lies)."""
        return repack(
            self.world.dists[f"{example}:wheel"],
            self._dir("wheel"),
            name=name or self.name,
            version=version,
            mutate=mutate,
            tamper=tamper,
            filename=filename,
        )

    def sdist(
        self,
        version: str = "1.0.0",
        *,
        name: str | None = None,
        example: str = "csv-dedupe",
        mutate: Callable[[Members], None] | None = None,
        extra: list[tuple[tarfile.TarInfo, bytes]] | None = None,
        filename: str | None = None,
    ) -> Path:
        """The example's real sdist, renamed to this case's component (or `name`)."""
        return repack_sdist(
            self.world.dists[f"{example}:sdist"],
            self._dir("sdist"),
            name=name or self.name,
            version=version,
            mutate=mutate,
            extra=extra,
            filename=filename,
        )

    def edited(
        self, path: Path, edit: Callable[[bytes, Layout], bytes], *, filename: str | None = None
    ) -> Path:
        """A copy of the archive at `path` with its bytes changed by `edit(data, layout)`; its
        form fields and digests will describe the changed bytes."""
        data = path.read_bytes()
        out = self._dir("edited") / (filename or path.name)
        out.write_bytes(edit(data, layout(data)))
        return out

    def file(self, filename: str, data: bytes) -> Path:
        """A file of the given bytes (not an archive at all, or an empty one)."""
        path = self._dir("file") / filename
        path.write_bytes(data)
        return path

    def stem(self, version: str = "1.0.0") -> str:
        return f"{self.stem_name}-{version}"

    def publish(self, path: Path, *, token: str | None = None) -> None:
        """Set-up: upload a file that must be accepted."""
        r = self.http.post(
            "/legacy/",
            data=form_for(path),
            files={"content": (path.name, path.read_bytes(), "application/octet-stream")},
            auth=("__token__", token or self.alice),
        )
        assert r.status_code == 200, f"set-up upload of {path.name} failed: {r.text}"


def check_refusal(world: World, family: str, case: Refusal) -> None:
    """Build the case's request, send it, and check status, problem code and residue."""
    ctx = world.ctx(family, case.id)
    request = case.send(ctx)
    before = snapshot(world.live)
    response = request.post(ctx)
    assert response.status_code == case.status, (
        f"{family}/{case.id}: expected {case.status} {case.code}, got {response.status_code}: "
        f"{response.text[:800]}"
    )
    body = problem(response)
    assert body["code"] == case.code, f"{family}/{case.id}: {body}"
    assert body["detail"], body
    if case.says is not None:
        assert case.says in body["detail"], f"{family}/{case.id}: {body['detail']}"
    assert_no_residue(before, snapshot(world.live))


BOUNDARY = "r3fusal-b0undary"


def multipart(*parts: tuple[str | None, bytes | str, str | None]) -> tuple[bytes, str]:
    """A hand-made multipart/form-data body from (name, value, filename) parts, for forms no
    HTTP library would send; returns the body and its Content-Type."""
    body = b""
    for name, value, filename in parts:
        disposition = "form-data"
        if name is not None:
            disposition += f'; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        data = value.encode() if isinstance(value, str) else value
        body += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        body += data + b"\r\n"
    return body + f"--{BOUNDARY}--\r\n".encode(), f"multipart/form-data; boundary={BOUNDARY}"


def form_parts(path: Path, **overrides: Any) -> list[tuple[str | None, bytes | str, str | None]]:
    """The text parts twine sends for the file at `path`, for `multipart`."""
    return [(k, str(v), None) for k, v in form_for(path, **overrides).items()]
