"""What keeps built-in search fast under load: one vocabulary read however many first queries
arrive at once, and answers kept per index version, dropped by any write."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import insert

from pysetl_hub_server.db import models
from pysetl_hub_server.db.migrate import upgrade
from pysetl_hub_server.hotpath import HotPath
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.runtime import open_hub
from pysetl_hub_server.search.builtin import BuiltinEngine
from pysetl_hub_server.search.engine import Document, SearchQuery
from pysetl_hub_server.settings import Settings
from tests.support.live import LiveServer

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _doc(i: int, name: str, summary: str) -> Document:
    return Document(
        id=i,
        name=name,
        display_name=name,
        version="1.0.0",
        summary=summary,
        entry_points=[],
        keywords=["etl"],
        readme="",
        license="MIT",
        kinds=["factory"],
        verified=False,
        yanked=False,
        updated=T0,
        downloads=0,
        requires_python=None,
        pysetl=None,
        pyspark=None,
    )


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    s = Settings(data_dir=tmp_path / "data", database_url=database_url)
    upgrade(s.effective_database_url)
    return s


async def _seed(hub_sessions: object, docs: list[Document]) -> None:
    async with hub_sessions() as session, session.begin():  # type: ignore[operator]
        await session.execute(
            insert(models.Component),
            [{"id": d.id, "name": d.name, "display_name": d.name} for d in docs],
        )


async def _indexed_elsewhere(hub: Hub, count: int) -> BuiltinEngine:
    """`count` kafka readers indexed by one engine; a new engine (a just-started process) on the
    same database, which has read nothing yet."""
    docs = [_doc(i + 1, f"kafka-reader-{i}", "Read Kafka topics") for i in range(count)]
    await _seed(hub.sessions, docs)
    writer = BuiltinEngine(hub.sessions, hub.engine.dialect.name)
    await writer.index(docs)
    await writer.close()
    return BuiltinEngine(hub.sessions, hub.engine.dialect.name)


def test_concurrent_first_searches_read_the_vocabulary_once(settings: Settings) -> None:
    async def go() -> None:
        async with open_hub(settings) as hub:
            fresh = await _indexed_elsewhere(hub, 30)
            answers = await asyncio.gather(
                *(fresh.search(SearchQuery(q=f"kafkq {i}")) for i in range(20))
            )
            assert fresh._vocabulary.reads == 1
            assert all(a.corrected_query is not None for a in answers)  # the vocabulary was used
            await fresh.close()

    asyncio.run(go())


def test_a_started_engine_has_read_its_vocabulary_before_the_first_search(
    settings: Settings,
) -> None:
    """Read at start (before readiness and serve's heap freeze), not by the first search."""

    async def go() -> None:
        async with open_hub(settings) as hub:
            fresh = await _indexed_elsewhere(hub, 5)
            assert fresh.version() is None  # nothing read yet
            await fresh.start()
            assert fresh._vocabulary.reads == 1 and fresh.version() is not None
            answer = await fresh.search(SearchQuery(q="kafkq"))
            assert answer.corrected_query == "kafka" and fresh._vocabulary.reads == 1
            await fresh.close()

    asyncio.run(go())


def test_a_write_moves_the_token_of_kept_answers(settings: Settings) -> None:
    async def go() -> None:
        async with open_hub(settings) as hub:
            docs = [_doc(1, "delta-writer", "Write Delta tables")]
            await _seed(hub.sessions, [*docs, replace(docs[0], id=2, name="delta-sink")])
            engine = BuiltinEngine(hub.sessions, hub.engine.dialect.name)
            await engine.index(docs)
            await engine.search(SearchQuery(q="delta"))
            token = engine.version()
            assert token is not None and engine.version() == token  # steady: answers kept
            await engine.index(
                [replace(docs[0], id=2, name="delta-sink", display_name="delta-sink")]
            )
            assert engine.version() != token  # kept answers no longer match
            after = await engine.search(SearchQuery(q="delta"))
            assert {h.name for h in after.hits} == {"delta-writer", "delta-sink"}
            token = engine.version()
            await engine.remove(["delta-sink"])
            assert engine.version() != token
            assert {h.name for h in (await engine.search(SearchQuery(q="delta"))).hits} == {
                "delta-writer"
            }
            await engine.close()

    asyncio.run(go())


def test_search_answers_are_kept_until_the_index_changes(
    live: LiveServer, http: httpx.Client, published_catalog: str, example_dists: dict[str, Path]
) -> None:
    from tests.support.dists import repack
    from tests.support.upload import upload

    params = {"q": "csv"}
    first = http.get("/api/v1/search", params=params)
    again = http.get("/api/v1/search", params=params)
    assert first.status_code == 200 and first.json()["total"] >= 1
    assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
    revalidated = http.get(
        "/api/v1/search", params=params, headers={"If-None-Match": first.headers["etag"]}
    )
    assert revalidated.status_code == 304
    hot = HotPath(lambda *_: None, live.hub.cache, live.hub.downloads, None, live.hub.search)  # type: ignore[arg-type]
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/api/v1/search",
        "query_string": b"q=csv",
        "headers": [],
    }
    kept = hot.answer(scope, "GET")
    assert kept is not None and kept[2] == first.content  # answered from memory, same bytes
    # A publish moves the index: the kept answer is not served any more.
    newer = repack(example_dists["csv-dedupe:wheel"], live.settings.data_dir / "n", version="9.0.0")
    assert upload(http, published_catalog, newer).status_code == 200
    deadline = time.monotonic() + 10
    while "9.0.0" not in http.get("/api/v1/search", params=params).text:
        assert time.monotonic() < deadline, "the kept answer outlived the change"
        time.sleep(0.05)


def _hot(live: LiveServer) -> HotPath:
    return HotPath(lambda *_: None, live.hub.cache, live.hub.downloads, None, live.hub.search)  # type: ignore[arg-type]


def _scope(query_string: bytes) -> dict[str, object]:
    return {
        "type": "http",
        "method": "GET",
        "path": "/api/v1/search",
        "query_string": query_string,
        "headers": [],
    }


def test_one_entry_per_query_however_it_is_spelled(
    live: LiveServer, http: httpx.Client, published_catalog: str
) -> None:
    """Unknown parameters and their order do not make new entries: junk cannot push out the
    answers people ask for."""
    answers = live.hub.search.answers
    assert answers is not None
    first = http.get("/api/v1/search?q=dedupe&sort=name")
    assert first.status_code == 200
    held = len(answers)
    for i in range(20):
        r = http.get(f"/api/v1/search?x={i}&sort=name&utm={i}&q=dedupe")
        assert r.content == first.content
    assert len(answers) == held
    kept = _hot(live).answer(_scope(b"zz=1&sort=name&q=dedupe"), "GET")  # type: ignore[arg-type]
    assert kept is not None and kept[2] == first.content  # from memory, reordered and padded
    # Different searches are still told apart.
    assert _hot(live).answer(_scope(b"q=dedupe&sort=newest"), "GET") is None  # type: ignore[arg-type]


def test_explanations_and_big_pages_are_answered_not_kept(
    live: LiveServer, http: httpx.Client, published_catalog: str
) -> None:
    answers = live.hub.search.answers
    assert answers is not None
    for query in ("q=csv&explain=true", "q=csv&per_page=100", "q=csv&per_page=21"):
        assert http.get(f"/api/v1/search?{query}").status_code == 200
        assert answers.peek(query.encode()) is None, query
    assert http.get("/api/v1/search?q=csv&per_page=20").status_code == 200
    assert answers.peek(b"q=csv&per_page=20") is not None


def test_kept_answers_are_bounded_by_bytes() -> None:
    from pysetl_hub_server.answers import json_answer
    from pysetl_hub_server.search.answers import OVERHEAD, SearchAnswers

    body = b"x" * 10_000
    answers = SearchAnswers(lambda: 1, budget=5 * (len(body) + OVERHEAD))
    for i in range(50):
        answers.put(f"q=w{i}".encode(), 1, json_answer(body))
        assert answers.stats().bytes <= 5 * (len(body) + OVERHEAD)
    assert len(answers) == 5
    assert answers.peek(b"q=w49") is not None and answers.peek(b"q=w0") is None
    held = answers.stats()
    assert (held.entries, held.budget, held.evictions) == (5, 5 * (len(body) + OVERHEAD), 45)


def test_bad_searches_are_never_kept(live: LiveServer, http: httpx.Client) -> None:
    for _ in range(2):
        r = http.get("/api/v1/search", params={"page": "0"})
        assert r.status_code == 400
    answers = live.hub.search.answers
    assert answers is not None and answers.peek(b"page=0") is None
