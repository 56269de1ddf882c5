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
DEFAULT_POOL_SIZE = 5
# Pages of SQLite's cache per connection (negative: KiB). Each open connection keeps its own, so
# the pool's memory is this times the connections (up to 10): 2 MB each. The hot pages of a big
# catalogue stay in the OS's file cache, shared by all; at 100k components 8 MB each cost ~57 MB
# of PSS under search load and bought no measurable speed (bench/scale_bench.py).
SQLITE_CACHE_KIB = 2000


def make_engine(
    url: str, timeout: float = DEFAULT_TIMEOUT, pool_size: int = DEFAULT_POOL_SIZE
) -> AsyncEngine:
    """Build an engine whose outages are domain errors (db/outages.py). SQLite gets WAL, a busy
    timeout of `timeout`, enforced foreign keys, and its temporary structures in memory;
    PostgreSQL gets a connect timeout of `timeout` and a pre-ping that replaces connections a
    restart of the server dropped. Both pools hold `pool_size` connections and as many again
    under bursts, no more: memory stays bounded however many requests wait."""
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url,
            connect_args={"timeout": timeout},
            hide_parameters=True,
            **_pool(url, pool_size),
        )
        watch(engine, timeout, prepare=_sqlite_pragmas(timeout))
        return engine
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
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
        cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cur.close()

    return prepare


def _pool(url: str, pool_size: int) -> dict[str, Any]:
    if ":memory:" in url or url.rstrip("/").endswith("sqlite+aiosqlite:"):
        return {}  # an in-memory database lives in its one connection: the default pool
    return {"pool_size": pool_size, "max_overflow": pool_size}


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"
