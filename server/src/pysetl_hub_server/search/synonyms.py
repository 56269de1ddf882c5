"""Synonyms shared by every engine: the words users search with vs. the words authors write."""

from __future__ import annotations

GROUPS: tuple[tuple[str, ...], ...] = (
    ("dedupe", "deduplicate", "duplicate", "duplicates", "distinct", "dedup"),
    ("write", "writer", "sink", "save", "store", "export"),
    ("read", "reader", "source", "load", "ingest", "import"),
    ("kafka", "stream", "streaming", "topic"),
    ("delta", "deltalake"),
    ("s3", "bucket", "aws"),
    ("postgres", "postgresql", "jdbc", "sql"),
    ("json", "jsonl", "ndjson"),
    ("csv", "tsv", "delimited"),
    ("aggregate", "aggregation", "sum", "total", "totals", "rollup"),
    ("clean", "cleaning", "cleanse", "sanitize"),
    ("validate", "validation", "check", "quality"),
    ("join", "merge", "enrich"),
    ("schedule", "daily", "nightly", "batch"),
)

_BY_WORD: dict[str, tuple[str, ...]] = {w: g for g in GROUPS for w in g}


def expand(word: str) -> list[str]:
    """The word first, then its synonyms."""
    group = _BY_WORD.get(word, ())
    return [word, *(w for w in group if w != word)]


def meilisearch_synonyms() -> dict[str, list[str]]:
    return {w: [x for x in g if x != w] for g in GROUPS for w in g}
