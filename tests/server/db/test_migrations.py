"""Alembic is the source of the schema: the migrations create exactly what the models say."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from pysetl_hub_server.db.engine import make_engine
from pysetl_hub_server.db.migrate import include_object, upgrade
from pysetl_hub_server.db.models import Base


def test_migrations_match_models(database_url: str) -> None:
    upgrade(database_url)

    async def diff() -> tuple[list[object], set[str]]:
        engine = make_engine(database_url)
        async with engine.connect() as conn:
            changes = await conn.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(c, opts={"include_object": include_object}),
                    Base.metadata,
                )
            )
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        await engine.dispose()
        return changes, tables

    changes, tables = asyncio.run(diff())
    assert changes == []
    assert {
        "components",
        "releases",
        "files",
        "filename_registry",
        "users",
        "api_tokens",
        "roles",
        "audit_events",
        "search_docs",
        "search_tags",
        "search_outbox",
    } <= tables
    assert ("search_fts" in tables) == database_url.startswith("sqlite")


def test_upgrade_is_idempotent(database_url: str) -> None:
    upgrade(database_url)
    upgrade(database_url)


def test_downgrade_and_upgrade_again(database_url: str) -> None:
    """Each migration's downgrade undoes it, so an operator can roll back a release."""
    from alembic import command

    from pysetl_hub_server.db.migrate import alembic_config

    upgrade(database_url)
    command.downgrade(alembic_config(database_url), "0001")
    upgrade(database_url)
