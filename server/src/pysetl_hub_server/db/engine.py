"""Engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from pysetl_hub_server.db.outages import watch

# Seconds a query waits for the database (a lock another writer holds on SQLite, a connection to
# PostgreSQL) before the request is answered 503 and the client told to retry.
DEFAULT_TIMEOUT = 5.0


def make_engine(url: str, timeout: float = DEFAULT_TIMEOUT) -> AsyncEngine:
    """Build an engine whose outages are domain errors (db/outages.py). SQLite gets WAL, a busy
    timeout of `timeout`, enforced foreign keys, and its temporary structures in memory;
    PostgreSQL gets a connect timeout of `timeout` and a pre-ping that replaces connections a
    restart of the server dropped."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": timeout}, hide_parameters=True)
        watch(engine, timeout, prepare=_sqlite_pragmas(timeout))
        return engine
    engine = create_async_engine(
        url,
        pool_size=10,
        max_overflow=10,
        pool_pre_ping=True,
        connect_args={"timeout": timeout},
        # Bound values (secrets among them) stay out of logs and error messages.
        hide_parameters=True,
    )
    watch(engine, timeout)
    return engine


def _sqlite_pragmas(timeout: float) -> Callable[[Any], None]:
    def prepare(dbapi_conn: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
        # Sorts, GROUP BYs and materialized CTEs (search facets) stay in memory.
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.execute("PRAGMA cache_size=-32000")  # 32 MB of page cache per connection
        cur.close()

    return prepare


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"
