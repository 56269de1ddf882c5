"""What a database failure means to the client, decided in one place for every query.

`watch(engine, timeout)` hooks the engine twice: on connect (PostgreSQL refusing connections,
an SQLite file that cannot be opened) and on every statement and commit (`handle_error`). Each
failure the client can do something about becomes a domain error before any caller sees it:

- a held lock (SQLite `database is locked` after the busy timeout): 503 `database.busy`;
- no database to talk to (connection refused or lost, server shutting down or starting up,
  too many connections): 503 `database.unavailable`;
- a full disk under the database (SQLITE_FULL, PostgreSQL `disk_full`): 507 `storage.full`.

Anything else (a constraint, a bad statement) is left as it is, for the caller or for the 500
handler, and so is a cancellation: a task cancelled mid-query must end, not go on as if the
database had failed. The pre-ping of a pooled connection is left alone too: the pool must see
the raw disconnect to throw that connection away and open a new one, which is how it recovers
after the database comes back.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine

from pysetl_hub_server.errors import HubError, ServiceUnavailable, storage_full
from pysetl_hub_server.i18n.messages import Message, _

# Seconds a client should wait after a refused connection: a database restart takes a few.
RETRY_UNAVAILABLE = 10

_SQLITE_BUSY = ("SQLITE_BUSY", "SQLITE_LOCKED")
_SQLITE_FULL = "SQLITE_FULL"
_SQLITE_UNAVAILABLE = ("SQLITE_CANTOPEN",)
_PG_FULL = "53100"  # disk_full
# connection_exception (08), operator intervention: shutting down, crashed, starting up (57P0x),
# insufficient resources: too many connections, out of memory (53).
_PG_UNAVAILABLE = ("08", "57P01", "57P02", "57P03", "53")


def _seconds(n: int) -> Message:
    return _("{n} second", n=n) if n == 1 else _("{n} seconds", n=n)


def busy(timeout: float) -> ServiceUnavailable:
    seconds = max(1, math.ceil(timeout))
    return ServiceUnavailable(
        "database.busy",
        _(
            "the database is busy: another writer held its lock for more than {seconds}, so "
            "this request changed nothing; retry after {seconds}",
            seconds=_seconds(seconds),
        ),
        retry_after=seconds,
    )


def unavailable(reason: str | Message) -> ServiceUnavailable:
    return ServiceUnavailable(
        "database.unavailable",
        _(
            "the database is unavailable ({reason}), so this request changed nothing; retry "
            "after {retry} (operators: check that the database server is running "
            "and reachable)",
            reason=reason,
            retry=_seconds(RETRY_UNAVAILABLE),
        ),
        retry_after=RETRY_UNAVAILABLE,
    )


def classify(exc: BaseException, *, disconnect: bool, timeout: float) -> HubError | None:
    """The domain error a database failure stands for, or None to leave it as it is."""
    if not isinstance(exc, Exception):
        return None  # a cancelled task (asyncpg says "disconnect") must stay cancelled
    cause = getattr(exc, "orig", None) or exc  # a SQLAlchemy wrapper's DBAPI error
    sqlite_name: str = getattr(cause, "sqlite_errorname", "") or ""
    if sqlite_name.startswith(_SQLITE_BUSY):
        return busy(timeout)
    if sqlite_name.startswith(_SQLITE_FULL):
        return storage_full()
    if sqlite_name.startswith(_SQLITE_UNAVAILABLE):
        return unavailable(_("its file cannot be opened"))
    sqlstate: str = getattr(cause, "sqlstate", None) or ""
    if sqlstate == _PG_FULL:
        return storage_full()
    if sqlstate.startswith(_PG_UNAVAILABLE):
        return unavailable(f"SQLSTATE {sqlstate}")
    if disconnect:
        return unavailable(_("the connection was lost"))
    if isinstance(cause, OSError):  # refused, reset, unreachable, timed out while connecting
        return unavailable(cause.strerror or type(cause).__name__)
    return None


def watch(
    engine: AsyncEngine, timeout: float, prepare: Callable[[Any], None] | None = None
) -> None:
    """Turn the engine's outages into domain errors (see the module docstring); `prepare`
    sets up each new DBAPI connection (SQLite's PRAGMAs), under the same rule."""

    @event.listens_for(engine.sync_engine, "do_connect")
    def _connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        try:
            connection = dialect.connect(*cargs, **cparams)
            try:
                if prepare is not None:
                    prepare(connection)
            except BaseException:
                connection.close()
                raise
            return connection
        except Exception as exc:
            fault = classify(exc, disconnect=False, timeout=timeout)
            if fault is None:
                raise
            raise fault from exc

    @event.listens_for(engine.sync_engine, "handle_error")
    def _statement(context: ExceptionContext) -> BaseException | None:
        if context.is_pre_ping:
            return None
        return classify(
            context.original_exception, disconnect=context.is_disconnect, timeout=timeout
        )
