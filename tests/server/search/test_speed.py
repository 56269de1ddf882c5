"""What keeps built-in search fast under load: one vocabulary read however many first queries
arrive at once, and answers kept per index version, dropped by any write."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event, insert

from pysetl_hub_server.db import models
from pysetl_hub_server.db.migrate import upgrade
from pysetl_hub_server.runtime import open_hub
from pysetl_hub_server.search.builtin import BuiltinEngine
from pysetl_hub_server.search.engine import Document, SearchQuery
from pysetl_hub_server.settings import Settings

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
