"""Over HTTP, the rules a token's secret and scope enforce on uploads, yanks and /me.

A token is checked by its secret, not only its id: a real id with a wrong secret is refused.
A token scoped to some components cannot act on another existing one, even its user's own.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.support.dists import repack
from tests.support.live import LiveServer
from tests.support.upload import problem, upload


def with_secret(token: str, secret: str) -> str:
    token_id = token.split("_")[1]
    return f"pshub_{token_id}_{secret}"


def flipped(token: str) -> str:
    """The same id, its secret's last character changed."""
    secret = token.split("_", 2)[2]
    return with_secret(token, secret[:-1] + ("A" if secret[-1] != "A" else "B"))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_real_token_id_with_a_wrong_secret_is_refused(
    http: httpx.Client, live: LiveServer, example_dists: dict[str, Path]
) -> None:
    token = live.user_with_token("alice")
    other = live.user_with_token("alice")  # another real token of the same user
    wheel = example_dists["csv-dedupe:wheel"]
    for wrong in (flipped(token), with_secret(token, other.split("_", 2)[2])):
        r = upload(http, wrong, wheel)
        assert r.status_code == 401, r.text
        assert problem(r)["code"] == "auth.invalid"
        r = http.get("/api/v1/me", headers=bearer(wrong))
        assert r.status_code == 401
        assert problem(r)["code"] == "auth.invalid"
    # the right secret with the same id is let in, on both
    assert http.get("/api/v1/me", headers=bearer(token)).status_code == 200
    assert upload(http, token, wheel).status_code == 200


def test_a_scoped_token_cannot_upload_to_or_yank_another_existing_component(
    http: httpx.Client,
    live: LiveServer,
    published_catalog: str,
    example_dists: dict[str, Path],
    tmp_path: Path,
) -> None:
    # alice owns both components; this token is scoped to the pipeline only
    scoped = live.user_with_token("alice", component="daily-sales-pipeline")
    newer = repack(example_dists["csv-dedupe:wheel"], tmp_path, version="1.1.0")
    r = upload(http, scoped, newer)
    assert r.status_code == 403, r.text
    assert problem(r)["code"] == "auth.scope"
    assert "'csv-dedupe'" in problem(r)["detail"]
    r = http.post(
        "/api/v1/components/csv-dedupe/1.0.0/yank", json={"reason": "x"}, headers=bearer(scoped)
    )
    assert r.status_code == 403
    assert problem(r)["code"] == "auth.scope"
    assert http.get("/api/v1/components/csv-dedupe/1.0.0").json()["yanked"] is False
    # inside its scope the same token works
    pipeline = repack(example_dists["daily-sales-pipeline:wheel"], tmp_path, version="0.3.1")
    assert upload(http, scoped, pipeline).status_code == 200
    r = http.post(
        "/api/v1/components/daily-sales-pipeline/0.3.0/yank",
        json={"reason": "x"},
        headers=bearer(scoped),
    )
    assert r.status_code == 200, r.text
    # and alice's user-wide token may do both on csv-dedupe
    assert upload(http, published_catalog, newer).status_code == 200
