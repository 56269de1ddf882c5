"""The read-only switch: every write is refused with 503, reads and downloads go on.

For maintenance (a database migration, a storage move, an incident): `PYSETL_HUB_READ_ONLY=1`
on a replica, or `pysetl-hub-server admin read-only on`, which writes the `read_only` server
flag that every replica reads. The flag is read on each write request (one primary-key lookup,
which a write was about to outdo anyway), never on reads, so it takes effect on every replica
at once and costs the hot path nothing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pysetl_hub_schemas import Problem
from pysetl_hub_server.audit.services import record
from pysetl_hub_server.db.models import ServerFlag
from pysetl_hub_server.errors import HubError
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.i18n import negotiate
from pysetl_hub_server.i18n.catalogs import DEFAULT, translations
from pysetl_hub_server.i18n.messages import DOMAIN, _

log = logging.getLogger(__name__)

FLAG = "read_only"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Reads sent as POST (the OSV query API's shape): answered in read-only mode too.
READ_POSTS = frozenset({"/osv/v1/query", "/osv/v1/querybatch"})
RETRY_AFTER = 300  # seconds: maintenance is minutes, not a request's blink


async def read_flag(hub: Hub) -> str | None:
    """The flag's message when the switch is on ("" for none), None when off."""
    return await flag_in(hub.sessions)


async def flag_in(sessions: async_sessionmaker[AsyncSession]) -> str | None:
    async with sessions() as session:
        return await session.scalar(select(ServerFlag.value).where(ServerFlag.name == FLAG))


async def set_read_only(hub: Hub, on: bool, message: str = "") -> None:
    """Turn the switch on (with a message for refused writers) or off; audited."""
    async with hub.sessions() as session:
        await session.execute(delete(ServerFlag).where(ServerFlag.name == FLAG))
        if on:
            session.add(ServerFlag(name=FLAG, value=message[:500], updated=datetime.now(UTC)))
        await record(
            session, "hub.read_only", target="hub", detail={"on": on, "message": message[:500]}
        )
        await session.commit()


def refusal_body(path: str, message: str, language: str = DEFAULT) -> bytes:
    """The 503 problem a write gets while the switch is on, in `language` (this layer answers
    before the app, so it writes its own problem rather than raising)."""
    detail = (
        _(
            "the hub is read-only for maintenance ({message}): reads and downloads work, but "
            "uploads, yanks and every other change are refused until the operator turns it "
            "off; retry in {minutes} minutes",
            message=message,
            minutes=RETRY_AFTER // 60,
        )
        if message
        else _(
            "the hub is read-only for maintenance: reads and downloads work, but uploads, "
            "yanks and every other change are refused until the operator turns it off; retry "
            "in {minutes} minutes",
            minutes=RETRY_AFTER // 60,
        )
    )
    return msgspec.json.encode(
        Problem(
            title=translations(DOMAIN, language).gettext("Service Unavailable"),
            status=503,
            detail=detail.translate(language),
            code="hub.read_only",
            instance=path,
        )
    )


class ReadOnlyGate:
    """ASGI layer: a non-safe request is answered 503 `hub.read_only` while the switch is on,
    before any of the app (or its body) is read."""

    def __init__(
        self, app: ASGIApp, sessions: async_sessionmaker[AsyncSession], forced: bool
    ) -> None:
        self.app = app
        self._sessions = sessions
        self._forced = forced

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == ScopeType.HTTP
            and scope["method"] not in SAFE_METHODS
            and not (scope["method"] == "POST" and scope["path"] in READ_POSTS)
        ):
            message = await self._message()
            if message is not None:
                await self._refuse(scope, send, message)
                return
        await self.app(scope, receive, send)

    async def _message(self) -> str | None:
        if self._forced:
            return ""
        try:
            return await flag_in(self._sessions)
        except (HubError, SQLAlchemyError, OSError):
            # The database is down: the app answers the write with its own 503 outage.
            log.debug("read-only flag unreadable; letting the write through", exc_info=True)
            return None

    async def _refuse(self, scope: Scope, send: Send, message: str) -> None:
        language = _language(scope)
        body = refusal_body(str(scope["path"]), message, language)
        headers = [
            (b"content-type", b"application/problem+json"),
            (b"content-language", language.encode()),
            (b"vary", b"Accept-Language, Cookie"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(RETRY_AFTER).encode()),
            # The body of the refused request is never read: the connection cannot carry on.
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})


def _language(scope: Scope) -> str:
    """As `problems.language_of`, from the raw ASGI headers (no Request exists here)."""
    accept: str | None = None
    cookie: str | None = None
    for key, value in scope.get("headers") or ():
        if key == b"accept-language":
            accept = bytes(value).decode("latin-1")
        elif key == b"cookie":
            for part in bytes(value).decode("latin-1").split(";"):
                name, _sep, text = part.strip().partition("=")
                if name == negotiate.COOKIE:
                    cookie = text
    return negotiate.choose(cookie, accept)
