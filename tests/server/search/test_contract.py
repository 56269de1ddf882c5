"""The contract every search engine passes: ranking, filters, facets, paging, yanked, removal.

Runs the built-in engine on SQLite and on PostgreSQL. Meilisearch runs when
PYSETL_HUB_TEST_MEILISEARCH_URL points at a real server (docker-compose brings one); no
Meilisearch server can be installed on these machines, so it is never faked.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pysetl_hub_server.db import models
from pysetl_hub_server.db.migrate import upgrade
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.runtime import open_hub
from pysetl_hub_server.search.engine import Document, SearchEngine, SearchQuery
from pysetl_hub_server.settings import Settings
from tests.support import postgres

PLATFORMS = {
    "python": ("3.9", "3.10", "3.11", "3.12"),
    "pysetl": ("1.1.0", "1.2.1", "2.0.0"),
    "spark": ("3.4.4", "3.5.7", "4.0.1"),
}
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def doc(i: int, name: str, summary: str = "", **kw: object) -> Document:
    base = Document(
        id=i,
        name=name,
        display_name=name,
        version="1.0.0",
        summary=summary,
        entry_points=[],
        keywords=[],
        readme="",
        license="MIT",
        kinds=["factory"],
        verified=False,
        yanked=False,
        updated=T0 + timedelta(days=i),
        downloads=0,
        requires_python=">=3.9",
        pysetl=">=1.2,<2",
        pyspark=">=3.4,<4",
    )
    return replace(base, **kw)  # type: ignore[arg-type]


CATALOG = [
    doc(1, "csv", "Read CSV files", keywords=["csv", "read"], entry_points=["CsvReader"]),
    doc(
        2,
        "csv-dedupe",
        "Drop duplicate rows of a CSV file",
        keywords=["csv", "dedupe"],
        entry_points=["CsvDedupe"],
    ),
    doc(
        3,
        "csv-tools",
        "CSV CSV CSV: every CSV helper for csv files, csv readers and csv writers",
        keywords=["csv"],
        license="Apache-2.0",
    ),
    doc(
        4,
        "kafka-sink",
        "Write a DataFrame to a Kafka topic",
        keywords=["kafka", "stream"],
        kinds=["pipeline"],
        entry_points=["KafkaSink"],
        pysetl=">=2.0",
        pyspark=">=4",
        requires_python=">=3.11",
        license="Apache-2.0",
    ),
    doc(
        5,
        "delta-writer",
        "Write Delta Lake tables",
        keywords=["delta"],
        readme="Supports merge and deduplicate on write.",
        verified=True,
    ),
    doc(6, "old-dedupe", "Deduplicate rows, the old way", yanked=True, keywords=["dedupe"]),
    doc(
        7,
        "row-filter",
        "Filter rows by a predicate",
        kinds=["factory", "pipeline"],
        entry_points=["RowFilter"],
    ),
]


async def _components(hub: Hub, docs: list[Document]) -> None:
    """Catalog rows the documents belong to (the built-in engine keys its index by them)."""
    async with hub.sessions() as session, session.begin():
        for d in docs:
            session.add(
                models.Component(id=d.id, name=d.name, display_name=d.display_name, last_serial=0)
            )


def _meili_url() -> str | None:
    return os.environ.get("PYSETL_HUB_TEST_MEILISEARCH_URL") or None


@pytest.fixture(
    params=[
        "builtin-sqlite",
        pytest.param("builtin-postgres", marks=pytest.mark.postgres),
        "meilisearch",
    ]
)
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SearchEngine]:
    if request.param == "meilisearch" and not _meili_url():
        pytest.skip(
            "PYSETL_HUB_TEST_MEILISEARCH_URL is not set: start Meilisearch (docker compose up "
            "meilisearch) and point it there; no Meilisearch server can be installed here"
        )
    if request.param == "builtin-postgres":
        pg: postgres.PostgresServer = request.getfixturevalue("pg_server")
        url = pg.create_database(f"search_{uuid.uuid4().hex[:12]}")
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}"
    await asyncio.to_thread(upgrade, url)
    settings = Settings(data_dir=tmp_path / "data", database_url=url)
    if request.param == "meilisearch":
        key = os.environ.get("PYSETL_HUB_TEST_MEILISEARCH_KEY")
        settings = replace(settings, search_url=_meili_url(), search_key=key)
    async with open_hub(settings) as hub:
        await _components(hub, CATALOG)
        engine = hub.search
        await engine.start()
        await engine.clear()
        await engine.index(CATALOG)
        yield engine


async def find(engine: SearchEngine, q: str = "", **kw: object) -> list[str]:
    res = await engine.search(SearchQuery(q=q, platforms=PLATFORMS, **kw))  # type: ignore[arg-type]
    return [h.name for h in res.hits]


async def test_a_working_engine_answers_the_readiness_ping(engine: SearchEngine) -> None:
    await engine.ping()


async def test_exact_name_is_always_first(engine: SearchEngine) -> None:
    # csv-tools says "csv" far more often, but a user typing `csv` means the component `csv`.
    assert (await find(engine, "csv"))[0] == "csv"
    assert (await find(engine, "csv-dedupe"))[0] == "csv-dedupe"
    assert (await find(engine, "CSV_Dedupe"))[0] == "csv-dedupe"
    res = await engine.search(SearchQuery(q="csv-dedupe", platforms=PLATFORMS))
    assert res.hits[0].exact and not any(h.exact for h in res.hits[1:])


async def test_relevance_prefix_and_typos(engine: SearchEngine) -> None:
    assert (await find(engine, "kafka"))[0] == "kafka-sink"
    assert "csv-dedupe" in await find(engine, "dedu")  # search as you type
    assert (await find(engine, "dedpue"))[0] == "csv-dedupe"  # one typo
    assert (await find(engine, "kafak topic"))[0] == "kafka-sink"
    assert (await find(engine, "CsvDedupe"))[0] == "csv-dedupe"  # entry point name
    # a word in the name outranks the same word deep in a README
    assert (await find(engine, "delta"))[0] == "delta-writer"
    assert await find(engine, "zzzqqq") == []


async def test_filters(engine: SearchEngine) -> None:
    assert set(await find(engine, kind="pipeline")) == {"kafka-sink", "row-filter"}
    assert set(await find(engine, license="Apache-2.0")) == {"csv-tools", "kafka-sink"}
    assert set(await find(engine, keywords=("dedupe",))) == {"csv-dedupe"}
    assert await find(engine, verified=True) == ["delta-writer"]
    assert "kafka-sink" not in await find(engine, pysetl="1.2.1")
    assert await find(engine, pysetl="2.0.0") == ["kafka-sink"]
    assert "kafka-sink" not in await find(engine, python="3.10")
    assert await find(engine, spark="4.0.1") == ["kafka-sink"]
    assert set(await find(engine, spark="3.5.7", kind="pipeline")) == {"row-filter"}


async def test_yanked_hidden_unless_asked(engine: SearchEngine) -> None:
    assert "old-dedupe" not in await find(engine, "dedupe")
    assert "old-dedupe" in await find(engine, "dedupe", include_yanked=True)


async def test_facets(engine: SearchEngine) -> None:
    res = await engine.search(SearchQuery(platforms=PLATFORMS))
    assert res.total == 6  # the yanked one is out
    f = res.facets
    assert f["kind"] == {"factory": 5, "pipeline": 2}
    assert f["license"] == {"MIT": 4, "Apache-2.0": 2}
    assert f["keyword"]["csv"] == 3
    assert f["pysetl"]["1.2.1"] == 5 and f["pysetl"]["2.0.0"] == 1
    assert f["spark"]["4.0.1"] == 1 and f["python"]["3.10"] == 5
    narrowed = await engine.search(SearchQuery(q="csv", platforms=PLATFORMS))
    assert narrowed.facets["kind"] == {"factory": narrowed.total}


async def test_paging_and_sorting(engine: SearchEngine) -> None:
    first = await engine.search(SearchQuery(per_page=4, sort="name", platforms=PLATFORMS))
    second = await engine.search(SearchQuery(per_page=4, page=2, sort="name", platforms=PLATFORMS))
    names = [h.name for h in first.hits + second.hits]
    assert names == sorted(names) and len(names) == 6 == first.total
    newest = await find(engine, sort="newest")
    assert newest[0] == "row-filter" and newest[-1] == "csv"


async def test_removal_and_update(engine: SearchEngine) -> None:
    await engine.remove(["kafka-sink"])
    assert await find(engine, "kafka") == []
    await engine.index([replace(CATALOG[0], summary="Parse comma separated values")])
    assert (await find(engine, "comma"))[0] == "csv"
    assert (await find(engine, "csv"))[0] == "csv"


async def test_highlights_and_explain(engine: SearchEngine) -> None:
    res = await engine.search(SearchQuery(q="kafka", explain=True, platforms=PLATFORMS))
    hit = res.hits[0]
    assert "<em>Kafka</em>" in hit.highlights["summary"]
    assert hit.explain
    exact = await engine.search(SearchQuery(q="csv", explain=True, platforms=PLATFORMS))
    assert exact.hits[0].exact


async def test_ties_go_to_downloads_then_recency(engine: SearchEngine) -> None:
    twins = [
        doc(20, "tie-aaa", "Pivot wide tables", downloads=5, updated=T0),
        doc(21, "tie-bbb", "Pivot wide tables", downloads=50, updated=T0),
        doc(22, "tie-ccc", "Pivot wide tables", downloads=5, updated=T0 + timedelta(days=9)),
    ]
    if engine.name == "builtin":
        async with engine._sessions() as session, session.begin():  # type: ignore[attr-defined]
            for d in twins:
                session.add(
                    models.Component(id=d.id, name=d.name, display_name=d.name, last_serial=0)
                )
    await engine.index(twins)
    assert await find(engine, "pivot") == ["tie-bbb", "tie-ccc", "tie-aaa"]


@pytest.mark.parametrize(
    "dialect", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
async def test_exact_name_first_even_when_another_outscores_it(
    request: pytest.FixtureRequest, tmp_path: Path, dialect: str
) -> None:
    """The exact name wins by rule, not by its score: here another component says the word in
    every field and would rank first on score alone."""
    if dialect == "postgres":
        pg: postgres.PostgresServer = request.getfixturevalue("pg_server")
        url = pg.create_database(f"search_{uuid.uuid4().hex[:12]}")
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}"
    await asyncio.to_thread(upgrade, url)
    docs = [
        doc(1, "dedupe", "Helpers", keywords=["helpers"]),
        doc(
            2,
            "dedupe-rows",
            "Dedupe dedupe dedupe: dedupe rows, dedupe files, dedupe everything",
            keywords=["dedupe", "dedupe-rows"],
            entry_points=["Dedupe", "DedupeRows", "DedupeAll"],
            readme="dedupe " * 200,
        ),
    ]
    async with open_hub(Settings(data_dir=tmp_path / "data", database_url=url)) as hub:
        await _components(hub, docs)
        await hub.search.start()
        await hub.search.index(docs)
        assert await find(hub.search, "dedupe") == ["dedupe", "dedupe-rows"]


async def test_sort_and_filter_by_quality(engine: SearchEngine) -> None:
    scored = [
        doc(30, "qual-low", "Sample rows", quality=20, downloads=900),
        doc(31, "qual-high", "Sample rows", quality=90),
        doc(32, "qual-mid", "Sample rows", quality=55),
    ]
    if engine.name == "builtin":
        async with engine._sessions() as session, session.begin():  # type: ignore[attr-defined]
            for d in scored:
                session.add(
                    models.Component(id=d.id, name=d.name, display_name=d.name, last_serial=0)
                )
    await engine.index(scored)
    found = await engine.search(SearchQuery(q="sample", sort="quality", platforms=PLATFORMS))
    assert [(h.name, h.quality) for h in found.hits] == [
        ("qual-high", 90),
        ("qual-mid", 55),
        ("qual-low", 20),
    ]
    assert set(await find(engine, "sample", min_quality=55)) == {"qual-high", "qual-mid"}
    assert await find(engine, "sample", min_quality=91) == []
    assert set(await find(engine, min_quality=1)) == {"qual-low", "qual-high", "qual-mid"}
