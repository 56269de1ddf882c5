"""Apply Alembic migrations programmatically (`db upgrade`, and `serve` on start)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database to `revision`; creates the SQLite file's directory first."""
    if database_url.startswith("sqlite") and ":///" in database_url:
        path = database_url.split(":///", 1)[1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(database_url), revision)


def current(database_url: str) -> None:
    command.current(alembic_config(database_url))


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare: object
) -> bool:
    """Leave the per-dialect full-text structures (FTS5 tables, tsvector) out of model diffs."""
    if type_ == "table" and name and name.startswith("search_fts"):
        return False
    if type_ == "index" and name in ("search_docs_tsv", "search_docs_name_trgm"):
        return False
    return not (type_ == "column" and name == "tsv")
