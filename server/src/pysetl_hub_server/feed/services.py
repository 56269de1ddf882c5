"""Reading the change feed: a page of public changes after a serial.

Serials are audit event ids. Writers take the journal's head lock before they get an id and
hold it until they commit (`audit/chain.py`), so ids commit in order: once the highest id is
`head`, no event at or below `head` can still appear. A page therefore reads `head` first and
covers `since < serial <= head`; its `next` is `head` when it reached the end, so a follower
never skips an event and never sees one twice.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_schemas.feed import PUBLIC_ACTIONS, ChangePage
from pysetl_hub_server.audit.services import last_serial
from pysetl_hub_server.bounds import MAX_ID
from pysetl_hub_server.db import models
from pysetl_hub_server.feed.projection import project

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_SERIAL = MAX_ID  # the serial column is a 64-bit integer; past it, a 400 not a 500


async def changes_page(session: AsyncSession, since: int, limit: int) -> ChangePage:
    head = await last_serial(session)
    rows = list(
        await session.scalars(
            select(models.AuditEvent)
            .where(
                models.AuditEvent.id > since,
                models.AuditEvent.id <= head,
                models.AuditEvent.action.in_(PUBLIC_ACTIONS),
            )
            .order_by(models.AuditEvent.id)
            .limit(limit + 1)
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    changes = await project(session, rows)
    end = rows[-1].id if more else max(head, since)
    return ChangePage(since=since, next=end, more=more, changes=changes)
