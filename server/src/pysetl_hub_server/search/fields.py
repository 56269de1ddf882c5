"""The four weighted text fields of a document: name, entry points, summary+keywords, README.

Both dialects store the same fields so ranking is the same on SQLite and PostgreSQL; names and
entry points are split here because neither tokenizer knows `csv-dedupe` or `CsvDedupe`.
"""

from __future__ import annotations

import re
from typing import Any

from pysetl_hub_server.search.engine import Document

WEIGHTS = (10.0, 6.0, 3.0, 1.0)  # name, entry points, summary+keywords, readme
CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def name_text(doc: Document) -> str:
    """`csv-dedupe` is found as `csv`, `dedupe` and `csvdedupe`."""
    parts = re.split(r"[-_.]+", doc.name)
    return " ".join([*parts, "".join(parts)])


def entry_text(doc: Document) -> str:
    """`CsvDedupe` is found as `csvdedupe`, `csv` and `dedupe`."""
    out = []
    for ep in doc.entry_points:
        out.append(ep)
        out.extend(CAMEL.sub(" ", ep).replace("_", " ").split())
    return " ".join(out)


def body_text(doc: Document) -> str:
    return " ".join([doc.summary, *doc.keywords])


def text_fields(doc: Document) -> dict[str, Any]:
    """The four weighted fields of a document (name, entry points, body, README)."""
    return {
        "id": doc.id,
        "n": name_text(doc),
        "e": entry_text(doc),
        "b": body_text(doc),
        "r": doc.readme,
    }
