"""Search quality and latency: MRR@10, nDCG@10 and p50/p99 per engine (run by hand).

    .venv/bin/python bench/search_bench.py [--seed 7] [--no-postgres]

A generated but realistic catalog (sources, sinks and operations of ETL components, each
described in one of several wordings, with entry points, keywords, READMEs and compatibility
ranges) and labelled queries of four kinds: exact names, partial names, names with a typo,
and concepts ("deduplicate rows", "write delta tables"). Relevance comes from what a component
*does* (the generator's labels), never from its text, so wording the engine cannot connect to
a query costs it points. Engines: built-in on SQLite, built-in on PostgreSQL (throwaway server
from the local binaries), Meilisearch when PYSETL_HUB_BENCH_MEILISEARCH_URL is set.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text as sql_text  # noqa: E402

from pysetl_hub_server.db import models  # noqa: E402
from pysetl_hub_server.db.migrate import upgrade  # noqa: E402
from pysetl_hub_server.runtime import open_hub  # noqa: E402
from pysetl_hub_server.search.engine import Document, SearchEngine, SearchQuery  # noqa: E402
from pysetl_hub_server.settings import Settings  # noqa: E402

# what a component touches, with the words people use for it
SYSTEMS = {
    "csv": ["CSV", "comma separated", "delimited text"],
    "json": ["JSON", "JSON lines", "nested JSON"],
    "parquet": ["Parquet", "columnar Parquet"],
    "avro": ["Avro", "Avro records"],
    "delta": ["Delta Lake", "Delta tables", "Delta"],
    "iceberg": ["Apache Iceberg", "Iceberg tables"],
    "kafka": ["Kafka", "Kafka topics", "Apache Kafka"],
    "kinesis": ["Kinesis", "AWS Kinesis streams"],
    "s3": ["S3", "Amazon S3 buckets"],
    "gcs": ["Google Cloud Storage", "GCS buckets"],
    "postgres": ["PostgreSQL", "Postgres"],
    "mysql": ["MySQL", "MariaDB"],
    "snowflake": ["Snowflake", "Snowflake warehouses"],
    "bigquery": ["BigQuery", "Google BigQuery"],
    "mongodb": ["MongoDB", "Mongo collections"],
    "elasticsearch": ["Elasticsearch", "Elastic indices"],
    "redis": ["Redis", "Redis keys"],
    "excel": ["Excel", "XLSX workbooks"],
    "xml": ["XML", "XML documents"],
    "sftp": ["SFTP", "SFTP servers"],
}
ROLES = {
    "reader": ["Read {s} into a DataFrame", "Load data from {s}", "Ingest {s} as a Spark source"],
    "writer": ["Write a DataFrame to {s}", "Save results into {s}", "Sink rows to {s}"],
}
OPS = {
    "dedupe": ["Drop duplicate rows", "Deduplicate records by key", "Keep one row per key"],
    "validate": ["Validate rows against rules", "Data quality checks", "Check schemas and nulls"],
    "mask": ["Mask PII columns", "Anonymize personal data", "Hash sensitive fields"],
    "aggregate": ["Aggregate totals per group", "Sum and count by key", "Rollup metrics"],
    "join": ["Join two datasets", "Enrich rows with a lookup table", "Merge reference data"],
    "flatten": ["Flatten nested structs", "Explode arrays into rows", "Unnest nested columns"],
    "scd2": ["Slowly changing dimension type 2", "Track history with SCD2", "Versioned upserts"],
    "clean": ["Clean messy strings", "Trim and normalize text columns", "Sanitize inputs"],
    "geocode": ["Geocode addresses", "Turn addresses into coordinates", "Reverse geocoding"],
    "timezone": ["Convert timestamps between time zones", "Normalize timezones", "UTC helpers"],
}
ORGS = ["acme", "contoso", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "tyrell"]
PYSETL = [">=1.2,<2", ">=1.1", ">=2.0", None, ">=1.2"]
SPARK = [">=3.4,<4", ">=3.5", ">=4", None, ">=3.3,<3.6"]
PYTHON = [">=3.9", ">=3.10", ">=3.11", None]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Labelled:
    kind: str
    query: str
    grades: dict[str, int]  # name -> relevance (3 exact target, 2 does it, 1 related)


def camel(name: str) -> str:
    return "".join(p.capitalize() for p in name.split("-"))


def generate(n: int, rng: random.Random) -> tuple[list[Document], dict[str, dict[str, str]]]:
    docs: list[Document] = []
    labels: dict[str, dict[str, str]] = {}
    seen: set[str] = set()
    i = 0
    while len(docs) < n:
        i += 1
        system = rng.choice(list(SYSTEMS))
        if rng.random() < 0.5:
            role, op = rng.choice(list(ROLES)), None
        else:
            role, op = None, rng.choice(list(OPS))
        parts = [system, role or op or ""]
        if rng.random() < 0.35 or f"{parts[0]}-{parts[1]}" in seen:
            parts.insert(0, rng.choice(ORGS))
        name = "-".join(parts)
        while name in seen:
            name = f"{name}-{rng.randint(2, 999)}"
        seen.add(name)
        sys_word = rng.choice(SYSTEMS[system])
        if role:
            summary = rng.choice(ROLES[role]).format(s=sys_word)
        else:
            assert op is not None
            summary = f"{rng.choice(OPS[op])} in {sys_word} data"
        keywords = [system, role or op or "", rng.choice(["spark", "etl", "pysetl", "batch"])]
        readme = f"# {name}\n\n{summary}. Works with PySetl pipelines on Spark. " + rng.choice(
            [
                "Configure it with a dataclass.",
                "Tested against local Spark in CI.",
                "See the examples folder for a full pipeline.",
                "Supports schema evolution and partitioned output.",
            ]
        )
        kinds = ["pipeline"] if rng.random() < 0.2 else ["factory"]
        docs.append(
            Document(
                id=len(docs) + 1,
                name=name,
                display_name=name,
                version=f"{rng.randint(0, 3)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}",
                summary=summary,
                entry_points=[camel(name)],
                keywords=keywords,
                readme=readme,
                license=rng.choice(["MIT", "Apache-2.0", "BSD-3-Clause"]),
                kinds=kinds,
                verified=rng.random() < 0.3,
                yanked=False,
                updated=T0 + timedelta(hours=rng.randint(0, 24 * 300)),
                downloads=int(rng.paretovariate(1.2) * 10),
                requires_python=rng.choice(PYTHON),
                pysetl=rng.choice(PYSETL),
                pyspark=rng.choice(SPARK),
            )
        )
        labels[name] = {"system": system, "role": role or "", "op": op or ""}
    return docs, labels


def typo(word: str, rng: random.Random) -> str:
    letters = [i for i, c in enumerate(word) if c.isalpha()]
    i = rng.choice(letters[1:-1] or letters)
    j = i + 1 if i + 1 < len(word) and word[i + 1].isalpha() else i - 1
    chars = list(word)
    chars[i], chars[j] = chars[j], chars[i]
    out = "".join(chars)
    return out if out != word else word[:-1]


CONCEPTS = [
    ("deduplicate rows", {"op": "dedupe"}),
    ("remove duplicates", {"op": "dedupe"}),
    ("write delta tables", {"system": "delta", "role": "writer"}),
    ("read from kafka", {"system": "kafka", "role": "reader"}),
    ("kafka sink", {"system": "kafka", "role": "writer"}),
    ("load parquet files", {"system": "parquet", "role": "reader"}),
    ("save to postgres", {"system": "postgres", "role": "writer"}),
    ("mask pii", {"op": "mask"}),
    ("anonymize personal data", {"op": "mask"}),
    ("data quality checks", {"op": "validate"}),
    ("flatten nested json", {"op": "flatten"}),
    ("slowly changing dimension", {"op": "scd2"}),
    ("geocode addresses", {"op": "geocode"}),
    ("convert time zones", {"op": "timezone"}),
    ("read excel", {"system": "excel", "role": "reader"}),
    ("write to s3", {"system": "s3", "role": "writer"}),
    ("bigquery reader", {"system": "bigquery", "role": "reader"}),
    ("aggregate totals", {"op": "aggregate"}),
    ("join lookup table", {"op": "join"}),
    ("clean text columns", {"op": "clean"}),
]


def labelled_queries(
    docs: list[Document], labels: dict[str, dict[str, str]], rng: random.Random
) -> list[Labelled]:
    queries: list[Labelled] = []
    names = [d.name for d in docs]
    for name in rng.sample(names, 20):
        queries.append(Labelled("exact", name, {name: 3}))
    for name in rng.sample([n for n in names if len(n) > 8], 15):
        cut = name[: max(5, len(name) * 2 // 3)].rstrip("-")
        grades = {n: (3 if n == name else 2) for n in names if n.startswith(cut)}
        queries.append(Labelled("partial", cut, grades))
    for name in rng.sample([n for n in names if len(n.split("-")[-1]) >= 5], 15):
        head, _, tail = name.rpartition("-")
        q = f"{head}-{typo(tail, rng)}" if head else typo(tail, rng)
        queries.append(Labelled("typo", q, {name: 3}))
    for text, want in CONCEPTS:
        grades = {}
        for n, lab in labels.items():
            if all(lab[k] == v for k, v in want.items()):
                grades[n] = 2
            elif any(lab[k] == v for k, v in want.items() if k != "role"):
                grades[n] = 1
        queries.append(Labelled("concept", text, grades))
    return queries


def mrr_at_10(ranked: list[str], grades: dict[str, int]) -> float:
    top = max(grades.values(), default=0)
    for i, name in enumerate(ranked[:10]):
        if grades.get(name, 0) >= min(top, 2):
            return 1 / (i + 1)
    return 0.0


def ndcg_at_10(ranked: list[str], grades: dict[str, int]) -> float:
    def dcg(gs: list[int]) -> float:
        return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(gs))

    ideal = dcg(sorted(grades.values(), reverse=True)[:10])
    return dcg([grades.get(n, 0) for n in ranked[:10]]) / ideal if ideal else 0.0


async def load(engine: SearchEngine, hub_sessions: object, docs: list[Document]) -> None:
    async with hub_sessions() as session, session.begin():  # type: ignore[operator]
        for i in range(0, len(docs), 1000):
            session.add_all(
                models.Component(id=d.id, name=d.name, display_name=d.name, last_serial=0)
                for d in docs[i : i + 1000]
            )
    await engine.clear()
    for i in range(0, len(docs), 500):
        await engine.index(docs[i : i + 500])
    async with hub_sessions() as session:  # type: ignore[operator]
        if session.bind.dialect.name == "postgresql":
            # What autovacuum does soon after a bulk load: planner statistics.
            await session.execute(sql_text("ANALYZE"))
            await session.commit()


async def run_engine(
    label: str,
    make_url: Callable[[str], str],
    base: Settings,
    docs_1k: list[Document],
    docs_10k: list[Document],
    queries: list[Labelled],
) -> dict[str, object]:
    platforms = {"python": ("3.11",), "pysetl": ("1.2.1",), "spark": ("3.5.7",)}
    out: dict[str, object] = {"engine": label}
    for size, docs in (("1k", docs_1k), ("10k", docs_10k)):
        url = make_url(size)
        s = replace(base, database_url=url)
        await asyncio.to_thread(upgrade, url)
        async with open_hub(s) as hub:
            engine = hub.search
            await engine.start()
            await load(engine, hub.sessions, docs)
            for q in queries[:5]:  # warm caches (vocabulary, statements)
                await engine.search(SearchQuery(q=q.query, platforms=platforms))
            lat: list[float] = []
            per_kind: dict[str, list[tuple[float, float]]] = {}
            for q in queries:
                t = time.perf_counter()
                res = await engine.search(SearchQuery(q=q.query, platforms=platforms))
                lat.append((time.perf_counter() - t) * 1000)
                ranked = [h.name for h in res.hits]
                per_kind.setdefault(q.kind, []).append(
                    (mrr_at_10(ranked, q.grades), ndcg_at_10(ranked, q.grades))
                )
            slow: list[tuple[float, str]] = []
            for _ in range(4):  # more latency samples
                for q in queries:
                    t = time.perf_counter()
                    await engine.search(SearchQuery(q=q.query, platforms=platforms))
                    lat.append((time.perf_counter() - t) * 1000)
                    slow.append((lat[-1], q.query))
            slow.sort(reverse=True)
            print(f"{label} {size} slowest: {slow[:5]}", file=sys.stderr)
            lat.sort()
            out[f"p50_{size}"] = statistics.median(lat)
            out[f"p99_{size}"] = lat[int(len(lat) * 0.99) - 1]
            if size == "1k":
                allm = [m for v in per_kind.values() for m, _ in v]
                alln = [n for v in per_kind.values() for _, n in v]
                out["mrr"] = statistics.mean(allm)
                out["ndcg"] = statistics.mean(alln)
                out["exact_at_1"] = sum(1 for m, _ in per_kind["exact"] if m == 1.0) / len(
                    per_kind["exact"]
                )
                for kind, vals in per_kind.items():
                    out[f"mrr_{kind}"] = statistics.mean(m for m, _ in vals)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--no-postgres", action="store_true")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    docs_1k, labels = generate(1000, rng)
    queries = labelled_queries(docs_1k, labels, rng)
    more = generate(12_000, random.Random(args.seed + 1))[0]
    docs_10k = [replace(d, id=i + 1) for i, d in enumerate(_unique(docs_1k + more)[:10_000])]
    print(
        f"{len(docs_1k)} / {len(docs_10k)} components, {len(queries)} labelled queries",
        file=sys.stderr,
    )
    work = Path(tempfile.mkdtemp(prefix="search-bench-"))
    base = Settings(data_dir=work / "data")
    results = []

    def sqlite_url(size: str) -> str:
        return f"sqlite+aiosqlite:///{work / f'hub-{size}.sqlite3'}"

    results.append(
        asyncio.run(
            run_engine("built-in (SQLite FTS5)", sqlite_url, base, docs_1k, docs_10k, queries)
        )
    )
    if not args.no_postgres:
        from tests.support import postgres

        pg = postgres.start()
        try:

            def pg_url(size: str) -> str:
                return pg.create_database(f"bench_{size}_{uuid.uuid4().hex[:8]}")

            results.append(
                asyncio.run(
                    run_engine("built-in (PostgreSQL)", pg_url, base, docs_1k, docs_10k, queries)
                )
            )
        finally:
            pg.stop()
    meili = os.environ.get("PYSETL_HUB_BENCH_MEILISEARCH_URL")
    if meili:
        results.append(
            asyncio.run(
                run_engine(
                    "Meilisearch",
                    sqlite_url,
                    replace(base, search_url=meili),
                    docs_1k,
                    docs_10k,
                    queries,
                )
            )
        )
    columns = "MRR@10 | nDCG@10 | exact@1 | MRR exact / partial / typo / concept"
    print(f"\n| engine | {columns} | p50 1k | p99 1k | p50 10k | p99 10k |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        kinds = " / ".join(f"{r[f'mrr_{k}']:.2f}" for k in ("exact", "partial", "typo", "concept"))
        times = " | ".join(f"{r[k]:.2f} ms" for k in ("p50_1k", "p99_1k", "p50_10k", "p99_10k"))
        print(
            f"| {r['engine']} | {r['mrr']:.3f} | {r['ndcg']:.3f} | {r['exact_at_1']:.0%} | "
            f"{kinds} | {times} |"
        )


def _unique(docs: list[Document]) -> list[Document]:
    seen: set[str] = set()
    out = []
    for d in docs:
        if d.name not in seen:
            seen.add(d.name)
            out.append(d)
    return out


if __name__ == "__main__":
    main()
