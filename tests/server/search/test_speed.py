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
from sqlalchemy import event, insert

from pysetl_hub_server.db import models
from pysetl_hub_server.db.migrate import upgrade
from pysetl_hub_server.hotpath import HotPath
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


def test_concurrent_first_searches_read_the_vocabulary_once(settings: Settings) -> None:
    async def go() -> None:
        async with open_hub(settings) as hub:
            docs = [_doc(i + 1, f"kafka-reader-{i}", "Read Kafka topics") for i in range(30)]
            await _seed(hub.sessions, docs)
            writer = BuiltinEngine(hub.sessions, hub.engine.dialect.name)
            await writer.index(docs)
            await writer.close()
            fresh = BuiltinEngine(hub.sessions, hub.engine.dialect.name)  # a just-started process
            answers = await asyncio.gather(
                *(fresh.search(SearchQuery(q=f"kafkq {i}")) for i in range(20))
            )
            assert fresh._vocabulary.reads == 1
            assert all(a.corrected_query is not None for a in answers)  # the vocabulary was used
            await fresh.close()

    asyncio.run(go())


def test_kept_answers_are_dropped_by_a_write(settings: Settings) -> None:
    async def go() -> None:
        async with open_hub(settings) as hub:
            docs = [_doc(1, "delta-writer", "Write Delta tables")]
            await _seed(hub.sessions, [*docs, replace(docs[0], id=2, name="delta-sink")])
            engine = BuiltinEngine(hub.sessions, hub.engine.dialect.name)
            await engine.index(docs)
            first = await engine.search(SearchQuery(q="delta"))
            statements: list[str] = []
            listener = lambda *a: statements.append(a[2])  # noqa: E731
            event.listen(hub.engine.sync_engine, "before_cursor_execute", listener)
            again = await engine.search(SearchQuery(q="delta"))
            event.remove(hub.engine.sync_engine, "before_cursor_execute", listener)
            assert again == first and statements == []  # kept: no query ran
            await engine.index(
                [replace(docs[0], id=2, name="delta-sink", display_name="delta-sink")]
            )
            after = await engine.search(SearchQuery(q="delta"))
            assert {h.name for h in after.hits} == {"delta-writer", "delta-sink"}
            await engine.remove(["delta-sink"])
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


def test_bad_searches_are_never_kept(live: LiveServer, http: httpx.Client) -> None:
    for _ in range(2):
        r = http.get("/api/v1/search", params={"page": "0"})
        assert r.status_code == 400
    answers = live.hub.search.answers
    assert answers is not None and answers.peek(b"page=0") is None
