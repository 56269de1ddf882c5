"""Publishing behaviour: create, no-op, conflicts, ownership, concurrency and atomicity."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from pysetl_hub_server.db.models import Component, File, FilenameRegistry, Release, Role
from pysetl_hub_server.faults import Faults
from pysetl_hub_server.hub import Hub
from tests.support.dists import repack
from tests.support.live import LiveServer
from tests.support.upload import form_for, problem, upload

WHEEL = "csv-dedupe:wheel"
JSON = {"Accept": "application/vnd.pypi.simple.v1+json"}


def count(live: LiveServer, model: type, column: str = "id") -> int:
    async def go(hub: Hub) -> int:
        async with hub.sessions() as s:
            return int(await s.scalar(select(func.count(getattr(model, column)))) or 0)

    return live.run(go)


def test_first_upload_creates_component_and_owner(
    live: LiveServer, http: httpx.Client, example_dists: dict[str, Path]
) -> None:
    token = live.user_with_token("alice")
    r = upload(http, token, example_dists[WHEEL])
    assert r.status_code == 200 and r.json()["created"] is True

    async def owners(hub: Hub) -> list[tuple[str, str]]:
        async with hub.sessions() as s:
            rows = await s.execute(select(Component.name, Role.role).join(Role))
            return [tuple(row) for row in rows]  # type: ignore[misc]

    assert live.run(owners) == [("csv-dedupe", "owner")]
    detail = http.get("/api/v1/components/csv-dedupe").json()
    assert detail["owners"] == ["alice"]


def test_same_bytes_again_is_a_noop(
    live: LiveServer, http: httpx.Client, example_dists: dict[str, Path]
) -> None:
    token = live.user_with_token("alice")
    assert upload(http, token, example_dists[WHEEL]).json()["created"] is True
    again = upload(http, token, example_dists[WHEEL])
    assert again.status_code == 200 and again.json()["created"] is False
    assert count(live, File) == 1


def test_same_filename_other_bytes_is_409(
    live: LiveServer, http: httpx.Client, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    token = live.user_with_token("alice")
    assert upload(http, token, example_dists[WHEEL]).status_code == 200

    def change(m: dict[str, bytes]) -> None:
        m["csv_dedupe/__init__.py"] += b"\n# changed\n"

    other = repack(example_dists[WHEEL], tmp_path, mutate=change)
    assert other.name == example_dists[WHEEL].name
    r = upload(http, token, other)
    assert r.status_code == 409
    assert problem(r)["code"] == "file.exists"


def test_filename_is_never_reused_after_deletion(
    live: LiveServer, http: httpx.Client, example_dists: dict[str, Path]
) -> None:
    """The registry outlives the file row: deleting a file does not free its name."""
    token = live.user_with_token("alice")
    assert upload(http, token, example_dists[WHEEL]).status_code == 200

    async def delete_file(hub: Hub) -> None:
        async with hub.sessions() as s:
            row = await s.scalar(select(File))
            assert row is not None
            await s.delete(row)
            await s.commit()

    live.run(delete_file)
    assert count(live, FilenameRegistry, "filename") == 1
    r = upload(http, token, example_dists[WHEEL])
    assert r.status_code == 409 and problem(r)["code"] == "file.deleted"


def test_same_bytes_under_a_second_filename_is_409(
    live: LiveServer, http: httpx.Client, example_dists: dict[str, Path]
) -> None:
    token = live.user_with_token("alice")
    wheel = example_dists[WHEEL]
    assert upload(http, token, wheel).status_code == 200
    renamed = "csv_dedupe-1.0.0-1-py3-none-any.whl"  # a build tag: a valid, different name
    r = upload(http, token, wheel, filename=renamed)
    assert r.status_code == 409 and problem(r)["code"] == "file.duplicate_content"
    assert wheel.name in problem(r)["detail"]
    assert count(live, File) == 1


def test_equivalent_versions_are_one_release(
    live: LiveServer, http: httpx.Client, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    token = live.user_with_token("alice")
    one = repack(example_dists[WHEEL], tmp_path / "a", version="2.0")
    other = repack(example_dists[WHEEL], tmp_path / "b", version="2.0.0")
    assert upload(http, token, one).status_code == 200
    assert upload(http, token, other).status_code == 200
    assert count(live, Release) == 1
    assert count(live, File) == 2
    versions = http.get("/api/v1/components/csv-dedupe").json()["versions"]
    assert versions == ["2.0"]


def test_other_users_token_gets_403(
    live: LiveServer, http: httpx.Client, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    alice = live.user_with_token("alice")
    mallory = live.user_with_token("mallory")
    assert upload(http, alice, example_dists[WHEEL]).status_code == 200
    newer = repack(example_dists[WHEEL], tmp_path, version="1.0.1")
    r = upload(http, mallory, newer)
    assert r.status_code == 403 and problem(r)["code"] == "auth.role"
    assert count(live, File) == 1
    # Permission before existence: the owner's very file, sent again by someone else, is a 403
    # too (not a 200 "already there" that would confirm what the hub holds).
    again = upload(http, mallory, example_dists[WHEEL])
    assert again.status_code == 403 and problem(again)["code"] == "auth.role"


@pytest.mark.parametrize(
    ("auth", "code"),
    [
        (None, "auth.missing"),
        (("alice", "password123"), "auth.username"),
        (("__token__", "not-a-token"), "auth.token_format"),
        (("__token__", "pshub_0123456789abcdef_" + "A" * 43), "auth.invalid"),
    ],
)
def test_upload_needs_a_valid_token(
    live: LiveServer,
    http: httpx.Client,
    example_dists: dict[str, Path],
    auth: tuple[str, str] | None,
    code: str,
) -> None:
    path = example_dists[WHEEL]
    r = http.post(
        "/legacy/",
        data=form_for(path),
        files={"content": (path.name, path.read_bytes())},
        auth=auth,
    )
    assert r.status_code == 401
    assert problem(r)["code"] == code
    assert r.headers["www-authenticate"].startswith("Basic")
    assert count(live, File) == 0


def test_revoked_and_expired_tokens_are_refused(
    live: LiveServer, http: httpx.Client, example_dists: dict[str, Path]
) -> None:
    from datetime import UTC, datetime, timedelta

    from pysetl_hub_server.db.models import ApiToken

    revoked = live.user_with_token("alice")
    expired = live.user_with_token("alice", expires_days=1)

    async def age(hub: Hub) -> None:
        async with hub.sessions() as s:
            tokens = list(await s.scalars(select(ApiToken).order_by(ApiToken.id)))
            tokens[0].revoked_at = datetime.now(UTC)
            tokens[1].expires_at = datetime.now(UTC) - timedelta(seconds=1)
            await s.commit()

    live.run(age)
    assert problem(upload(http, revoked, example_dists[WHEEL]))["code"] == "auth.revoked"
    assert problem(upload(http, expired, example_dists[WHEEL]))["code"] == "auth.expired"


def test_scoped_token_is_limited_to_its_component(
    live: LiveServer, http: httpx.Client, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    alice = live.user_with_token("alice")
    assert upload(http, alice, example_dists[WHEEL]).status_code == 200
    scoped = live.user_with_token("alice", component="csv-dedupe")
    newer = repack(example_dists[WHEEL], tmp_path, version="1.1.0")
    assert upload(http, scoped, newer).status_code == 200
    r = upload(http, scoped, example_dists["daily-sales-pipeline:wheel"])
    assert r.status_code == 403 and problem(r)["code"] == "auth.scope"


def test_tokens_are_stored_hashed(live: LiveServer) -> None:
    from pysetl_hub_server.db.models import ApiToken

    token = live.user_with_token("alice")
    assert token.startswith("pshub_")

    async def stored(hub: Hub) -> list[str]:
        async with hub.sessions() as s:
            return [t.secret_hash for t in await s.scalars(select(ApiToken))]

    (secret_hash,) = live.run(stored)
    secret = token.rsplit("_", 1)[1]
    assert secret not in secret_hash and token not in secret_hash
    assert len(secret_hash) == 64


# -- atomicity --------------------------------------------------------------------------------


def _visible(live: LiveServer, http: httpx.Client) -> tuple[int, int, int]:
    page = http.get("/simple/csv-dedupe/", headers=JSON)
    listed = len(page.json()["files"]) if page.status_code == 200 else 0
    blobs = live.settings.data_dir / "blobs" / "sha256"
    nblobs = sum(1 for p in blobs.rglob("*") if p.is_file()) if blobs.exists() else 0
    return count(live, File), listed, nblobs


@pytest.mark.parametrize("point", ["publish.after_blob_write", "publish.before_commit"])
def test_crash_before_commit_leaves_nothing_and_retry_succeeds(
    live: LiveServer, http: httpx.Client, example_dists: dict[str, Path], point: str
) -> None:
    token = live.user_with_token("alice")
    live.hub.faults.arm(point)
    r = upload(http, token, example_dists[WHEEL])
    assert r.status_code == 500
    assert problem(r)["code"] == "internal"
    assert _visible(live, http) == (0, 0, 0)
    assert count(live, FilenameRegistry, "filename") == 0
    assert count(live, Component) == 0
    retry = upload(http, token, example_dists[WHEEL])
    assert retry.status_code == 200 and retry.json()["created"] is True
    assert _visible(live, http) == (1, 1, 2)  # the wheel and its METADATA


def test_crash_after_commit_is_whole_and_retry_is_a_noop(
    live: LiveServer, http: httpx.Client, example_dists: dict[str, Path]
) -> None:
    token = live.user_with_token("alice")
    live.hub.faults.arm("publish.after_commit")
    assert upload(http, token, example_dists[WHEEL]).status_code == 500
    assert count(live, File) == 1
    retry = upload(http, token, example_dists[WHEEL])
    assert retry.status_code == 200 and retry.json()["created"] is False
    assert _visible(live, http) == (1, 1, 2)
    url = http.get("/simple/csv-dedupe/", headers=JSON).json()["files"][0]["url"]
    assert http.get(url).content == example_dists[WHEEL].read_bytes()


def test_fault_points_are_known() -> None:
    with pytest.raises(ValueError, match="unknown fault point"):
        Faults().arm("publish.nowhere")


# -- concurrency (PostgreSQL: real row locking between connections) ---------------------------


async def _race(url: str, requests: list[tuple[str, Path, bytes]]) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:

        async def one(token: str, path: Path, body: bytes) -> httpx.Response:
            import hashlib

            from tests.support.upload import form_for as fields

            form = fields(
                path, sha256_digest=hashlib.sha256(body).hexdigest(), blake2_256_digest=None
            )
            return await client.post(
                "/legacy/",
                data=form,
                files={"content": (path.name, body)},
                auth=("__token__", token),
            )

        return await asyncio.gather(*(one(t, p, b) for t, p, b in requests))


@pytest.mark.postgres
def test_concurrent_uploads_of_one_filename_exactly_one_wins(
    tmp_path: Path, postgres_url: str, example_dists: dict[str, Path]
) -> None:
    from tests.conftest import start_hub

    server = start_hub(tmp_path, postgres_url)
    try:
        token = server.user_with_token("alice")
        base = example_dists[WHEEL]
        variants = []
        for i in range(8):

            def change(m: dict[str, bytes], i: int = i) -> None:
                m["csv_dedupe/__init__.py"] += f"\n# variant {i}\n".encode()

            variants.append(repack(base, tmp_path / f"v{i}", mutate=change).read_bytes())
        responses = asyncio.run(_race(server.url, [(token, base, v) for v in variants]))
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200] + [409] * 7, [r.text for r in responses]
        assert count(server, File) == 1 and count(server, FilenameRegistry, "filename") == 1

        # The same bytes from N clients at once: one creates, the rest are no-ops.
        other = example_dists["daily-sales-pipeline:wheel"]
        same = asyncio.run(_race(server.url, [(token, other, other.read_bytes())] * 8))
        assert all(r.status_code == 200 for r in same), [r.text for r in same]
        assert sorted(r.json()["created"] for r in same) == [False] * 7 + [True]
        assert count(server, File) == 2 and count(server, Component) == 2
    finally:
        server.stop()
