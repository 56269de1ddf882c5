"""Leaked-token reports: a secret scanner that found a `pshub_` token in public revokes it.

The body is a JSON list of `{token, type?, url?, source?}`, as GitHub's secret scanning sends
to its partners. A valid token is revoked at once, and its owner sees a `token.leaked` event
with where it was found (never the secret). The answer is the same bytes whatever the tokens
were (valid, revoked, unknown or not tokens at all), so the endpoint cannot be used to test
stolen tokens; reports are rate-limited per address.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_schemas import LeakedToken, LeakReceipt
from pysetl_hub_server.accounts.tokens import parse_token, secret_matches
from pysetl_hub_server.audit.services import Actor, record
from pysetl_hub_server.db.models import ApiToken
from pysetl_hub_server.errors import BadRequest
from pysetl_hub_server.i18n.messages import _

if TYPE_CHECKING:
    from pysetl_hub_server.hub import Hub

MAX_REPORTS = 100
MAX_BODY = 256 * 1024
RECEIPT = (
    "thank you: every valid PySetl Hub token in the report is revoked, and its owner is told "
    "where it was found"
)
_FIELD = 500  # url, source and type are cut to this in the event


def _cut(text: str | None) -> str | None:
    return text[:_FIELD] if text else None


async def _revoke_if_valid(
    session: AsyncSession, item: LeakedToken, ip: str | None, user_agent: str | None
) -> None:
    parsed = parse_token(item.token)
    if parsed is None:
        return
    token_id, secret = parsed
    row = await session.scalar(select(ApiToken).where(ApiToken.token_id == token_id))
    stored = row.secret_hash if row is not None else "0" * 64
    if not secret_matches(secret, stored) or row is None or row.revoked_at is not None:
        return
    row.revoked_at = datetime.now(UTC)
    # On the owner's user, so it shows among their events; the reporter is only an address.
    await record(
        session,
        "token.leaked",
        actor=Actor(row.user_id, "leak-report", ip, user_agent),
        target=f"user:{row.user.username}",
        detail={
            "token_id": token_id,
            "name": row.name,
            "url": _cut(item.url),
            "source": _cut(item.source),
            "type": _cut(item.type),
        },
    )


async def report_leaks(
    hub: Hub, body: bytes, *, ip: str | None, user_agent: str | None
) -> LeakReceipt:
    """Revoke every valid token in the report; answer the same whatever they were."""
    await hub.limits.hit("leak_report", f"ip:{ip or 'unknown'}")
    try:
        reports = msgspec.json.decode(body, type=list[LeakedToken])
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise BadRequest(
            "leak.body",
            _(
                "a leaked-token report is a JSON list of objects with a 'token' string and "
                "optional 'type', 'url' and 'source' (GitHub secret scanning's format): {exc}",
                exc=exc,
            ),
        ) from exc
    if len(reports) > MAX_REPORTS:
        raise BadRequest(
            "leak.too_many",
            _(
                "a report holds at most {MAX_REPORTS} tokens, this one {reports_count}: split it",
                MAX_REPORTS=MAX_REPORTS,
                reports_count=len(reports),
            ),
        )
    async with hub.sessions() as session:
        for item in reports:
            await _revoke_if_valid(session, item, ip, user_agent)
        await session.commit()
    return LeakReceipt(received=len(reports), detail=RECEIPT)
