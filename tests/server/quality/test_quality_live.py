"""The quality score end to end on a live hub: computed at publish from what the files hold,
served in the component document and in search (sort and filter), stored, and recomputed when
a release is yanked or a better one is published."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from pysetl_hub_server.db import models
from pysetl_hub_server.hub import Hub
from tests.server.advisories.conftest import advisory
from tests.support.dists import Members, repack, repack_sdist
from tests.support.governance import BACKENDS, bearer, token_for
from tests.support.live import LiveServer
from tests.support.upload import upload


@pytest.fixture(scope="module", params=BACKENDS)
def hub(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    from tests.conftest import start_hub

    tmp = tmp_path_factory.mktemp("hub")
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp / 'hub.sqlite3'}"
    else:
        url = request.getfixturevalue("pg_server").create_database(f"hub_{uuid.uuid4().hex[:12]}")
    server = start_hub(tmp, url, search_interval=0.2)
    yield server
    server.stop()


def _bare(members: Members) -> None:
    """No README, no license: the METADATA headers only, without the license fields."""
    name = next(m for m in members if m.endswith(".dist-info/METADATA"))
    headers = members[name].decode().split("\n\n", 1)[0].splitlines()
    keep = [h for h in headers if not h.startswith(("License", "Description-Content-Type"))]
    members[name] = ("\n".join(keep) + "\n").encode()


def _with_tests(members: Members) -> None:
    members["tests/test_dedupe.py"] = b"def test_dedupe():\n    assert True\n"


def signals(document: dict[str, Any]) -> dict[str, float]:
    return {s["key"]: s["value"] for s in document["quality"]["signals"]}


def quality(http: httpx.Client, name: str) -> dict[str, Any]:
    r = http.get(f"/api/v1/components/{name}")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def search_order(http: httpx.Client, names: set[str], expect: dict[str, int]) -> list[str]:
    """Names in `sort=quality` order, once search shows the `expect`ed scores (the indexer
    applies a change within moments)."""
    deadline = time.monotonic() + 15
    while True:
        r = http.get("/api/v1/search", params={"sort": "quality", "per_page": 100})
        assert r.status_code == 200, r.text
        hits = [h for h in r.json()["hits"] if h["name"] in names]
        if {h["name"]: h["quality"] for h in hits} == expect:
            return [h["name"] for h in hits]
        assert time.monotonic() < deadline, (hits, expect)
        time.sleep(0.2)


def component_id(name: str) -> Any:
    async def go(h: Hub) -> int:
        async with h.sessions() as s:
            found = await s.scalar(select(models.Component.id).where(models.Component.name == name))
            assert found is not None
            return found

    return go


def test_the_score_follows_the_catalogue(
    hub: LiveServer, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    alice = token_for(hub, "alice")
    wheel, sdist = example_dists["csv-dedupe:wheel"], example_dists["csv-dedupe:sdist"]
    with httpx.Client(base_url=hub.url, timeout=30) as http:

        def publish(path: Path) -> None:
            r = upload(http, alice, path)
            assert r.status_code == 200, r.text

        publish(repack(wheel, tmp_path / "b1", name="bare-etl", version="1.0.0", mutate=_bare))
        for version in ("1.0.0", "1.1.0"):
            publish(repack(wheel, tmp_path / f"r{version}", name="rich-etl", version=version))
            publish(
                repack_sdist(
                    sdist, tmp_path / f"s{version}", name="rich-etl", version=version,
                    mutate=_with_tests,
                )
            )  # fmt: skip

        bare, rich = quality(http, "bare-etl"), quality(http, "rich-etl")
        assert signals(bare)["readme"] == 0 and signals(bare)["license"] == 0
        assert signals(bare)["tests"] == 0  # no sdist
        assert signals(bare)["documented"] == 1  # the class keeps its docstring
        assert signals(rich)["license"] == 1 and signals(rich)["tests"] == 1
        assert signals(rich)["yanked"] == 1 and signals(rich)["readme"] > 0
        # every signal is shown with its weight, and the total is their points
        for doc in (bare, rich):
            q = doc["quality"]
            assert sum(s["weight"] for s in q["signals"]) == 100
            assert q["total"] == round(sum(s["points"] for s in q["signals"]))
        bare_total, rich_total = bare["quality"]["total"], rich["quality"]["total"]
        rich_points = sum(s["points"] for s in rich["quality"]["signals"])
        assert rich_total > bare_total

        names = {"bare-etl", "rich-etl"}
        expect = {"bare-etl": bare_total, "rich-etl": rich_total}
        assert search_order(http, names, expect) == ["rich-etl", "bare-etl"]
        r = http.get("/api/v1/search", params={"min_quality": rich_total, "per_page": 100})
        found = {h["name"] for h in r.json()["hits"]}
        assert "rich-etl" in found and "bare-etl" not in found
        bad = http.get("/api/v1/search", params={"min_quality": 101})
        assert bad.status_code == 400
        assert bad.headers["content-type"].startswith("application/problem+json")

        # a yank costs the yanked ratio: half of its 5 points
        r = http.post("/api/v1/components/rich-etl/1.0.0/yank", json={}, headers=bearer(alice))
        assert r.status_code == 200, r.text
        rich = quality(http, "rich-etl")
        assert signals(rich)["yanked"] == 0.5
        assert rich["quality"]["total"] == round(rich_total - 2.5)
        rich_total = rich["quality"]["total"]

        # bare-etl's next release has the README, the license and an sdist with tests
        publish(repack(wheel, tmp_path / "b2", name="bare-etl", version="1.1.0"))
        tested = repack_sdist(
            sdist, tmp_path / "b2s", name="bare-etl", version="1.1.0", mutate=_with_tests
        )
        publish(tested)
        bare = quality(http, "bare-etl")
        assert signals(bare)["readme"] > 0 and signals(bare)["license"] == 1
        assert signals(bare)["tests"] == 1
        assert bare["quality"]["total"] > bare_total
        bare_total = bare["quality"]["total"]

        expect = {"bare-etl": bare_total, "rich-etl": rich_total}
        assert bare_total > rich_total  # it overtakes rich-etl in the quality sort
        assert search_order(http, names, expect) == ["bare-etl", "rich-etl"]

        # an advisory affecting rich-etl's newest release is open: 10 points go; a change (an
        # unyank) recomputes the score, and withdrawing the advisory gives them back
        upto_1_2 = [
            {"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2"}]}]}
        ]
        r = http.post(
            "/api/v1/components/rich-etl/advisories",
            headers=bearer(alice),
            json=advisory(affected=upto_1_2),
        )
        assert r.status_code == 201, r.text
        osv_id = r.json()["id"]
        r = http.post("/api/v1/components/rich-etl/1.0.0/unyank", headers=bearer(alice))
        assert r.status_code == 200, r.text
        rich = quality(http, "rich-etl")
        advisories = next(s for s in rich["quality"]["signals"] if s["key"] == "advisories")
        assert advisories["value"] == 0 and advisories["explanation"].startswith("1 open")
        # unyanked (the yanked ratio back whole), 10 points of advisories gone
        assert signals(rich)["yanked"] == 1
        assert rich["quality"]["total"] == round(rich_points - 10)
        search_order(http, names, {"bare-etl": bare_total, "rich-etl": rich["quality"]["total"]})
        r = http.post(f"/api/v1/advisories/{osv_id}/withdraw", headers=bearer(alice), json={})
        assert r.status_code == 200, r.text
        rich = quality(http, "rich-etl")
        assert signals(rich)["advisories"] == 1
        # one fixed by the newest release (it affects 1.0.0 only) is closed: nothing lost
        r = http.post(
            "/api/v1/components/rich-etl/advisories", headers=bearer(alice), json=advisory()
        )
        assert r.status_code == 201, r.text
        rich = quality(http, "rich-etl")
        assert signals(rich)["advisories"] == 1
        rich_total = rich["quality"]["total"]
        expect = {"bare-etl": bare_total, "rich-etl": rich_total}
        search_order(http, names, expect)

    async def stored(h: Hub) -> dict[str, int]:
        async with h.sessions() as s:
            rows = await s.execute(
                select(models.Component.name, models.QualityScore.total).join(
                    models.QualityScore,
                    models.QualityScore.component_id == models.Component.id,
                )
            )
            return {n: t for n, t in rows if n in names}

    assert hub.run(stored) == expect
