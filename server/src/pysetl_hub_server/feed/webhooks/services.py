"""Managing webhooks: a user's own (`/api/v1/me/webhooks`) and an organization's (its owners,
`/api/v1/orgs/{org}/webhooks`); their delivery log and redelivery.

The signing secret is made here and shown once. It is stored as made: the HMAC each delivery
carries is computed with the secret itself, so unlike an API token it cannot be kept hashed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_schemas.feed import PUBLIC_ACTIONS
from pysetl_hub_schemas.webhooks import (
    Webhook,
    WebhookAttempt,
    WebhookCreate,
    WebhookCreated,
    WebhookDelivery,
    WebhookDeliveryPage,
    WebhookUpdate,
)
from pysetl_hub_server.accounts.permissions import Identity
from pysetl_hub_server.audit.services import last_serial, record
from pysetl_hub_server.bounds import MAX_ID
from pysetl_hub_server.db import models
from pysetl_hub_server.errors import BadRequest, Conflict, NotFound
from pysetl_hub_server.feed.webhooks.send import check_url
from pysetl_hub_server.governance import lookup
from pysetl_hub_server.governance.orgs import require_org_owner
from pysetl_hub_server.i18n.messages import _

MAX_WEBHOOKS = 20  # per user or organization


@dataclass(frozen=True, slots=True)
class Owner:
    """Whose webhooks: a user's (`user_id`) or an organization's (`org_id`)."""

    label: str  # "user:alice" or "org:acme", the audit target
    user_id: int | None = None
    org_id: int | None = None

    def owns(self, row: models.Webhook) -> bool:
        return (row.user_id, row.org_id) == (self.user_id, self.org_id)


async def me(session: AsyncSession, who: Identity) -> Owner:
    lookup.require_account(who, _("manage your webhooks"))
    return Owner(f"user:{who.username}", user_id=who.user_id)


async def org(session: AsyncSession, who: Identity, name: str) -> Owner:
    row = await lookup.org(session, name)
    await require_org_owner(
        session, who, row, _("manage the webhooks of {org!r}", org=row.display_name)
    )
    return Owner(f"org:{row.name}", org_id=row.id)


def view(owner: Owner, row: models.Webhook) -> Webhook:
    return Webhook(
        id=row.id,
        owner=owner.label,
        url=row.url,
        events=list(row.events),
        active=row.active,
        disabled_reason=row.disabled_reason,
        consecutive_failures=row.consecutive_failures,
        created=row.created,
    )


def _events(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - set(PUBLIC_ACTIONS))
    if unknown:
        raise BadRequest(
            "webhook.events",
            _(
                "unknown webhook events {unknown}: choose among {known}",
                unknown=", ".join(unknown),
                known=", ".join(PUBLIC_ACTIONS),
            ),
        )
    return sorted(set(events))


async def _get(session: AsyncSession, owner: Owner, webhook_id: int) -> models.Webhook:
    row = await session.get(models.Webhook, webhook_id) if webhook_id <= MAX_ID else None
    if row is None or not owner.owns(row):
        raise NotFound(
            "webhook.missing",
            _("{owner} has no webhook {id}", owner=owner.label, id=webhook_id),
        )
    return row


async def listing(session: AsyncSession, owner: Owner) -> list[Webhook]:
    mine = (
        models.Webhook.user_id == owner.user_id
        if owner.user_id is not None
        else models.Webhook.org_id == owner.org_id
    )
    rows = await session.scalars(select(models.Webhook).where(mine).order_by(models.Webhook.id))
    return [view(owner, r) for r in rows]


async def create(
    session: AsyncSession, who: Identity, owner: Owner, data: WebhookCreate, allow_private: bool
) -> WebhookCreated:
    check_url(data.url, allow_private)
    events = _events(data.events)
    if len(await listing(session, owner)) >= MAX_WEBHOOKS:
        raise Conflict(
            "webhook.too_many",
            _(
                "{owner} already has {count} webhooks, the most one may have: delete one first",
                owner=owner.label,
                count=MAX_WEBHOOKS,
            ),
        )
    secret = "whsec_" + secrets.token_urlsafe(32)
    row = models.Webhook(
        user_id=owner.user_id,
        org_id=owner.org_id,
        url=data.url,
        events=events,
        secret=secret,
        active=True,
        consecutive_failures=0,
        since_serial=await last_serial(session),
    )
    session.add(row)
    await session.flush()
    await _audit(session, who, owner, "webhook.create", row)
    await session.commit()
    return WebhookCreated(webhook=view(owner, row), secret=secret)


async def _audit(
    session: AsyncSession, who: Identity, owner: Owner, action: str, row: models.Webhook
) -> None:
    # The URL's host only: a receiver's URL often carries a token of its own in its path.
    host = row.url.split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]
    detail = {"webhook": row.id, "host": host, "events": list(row.events)}
    await record(session, action, actor=who.actor, target=owner.label, detail=detail)


async def show(session: AsyncSession, owner: Owner, webhook_id: int) -> Webhook:
    return view(owner, await _get(session, owner, webhook_id))


async def update(
    session: AsyncSession,
    who: Identity,
    owner: Owner,
    webhook_id: int,
    data: WebhookUpdate,
    allow_private: bool,
) -> Webhook:
    row = await _get(session, owner, webhook_id)
    if data.url is not None:
        check_url(data.url, allow_private)
        row.url = data.url
    if data.events is not None:
        row.events = _events(data.events)
    if data.active is not None:
        row.active = data.active
        if data.active:  # enabled again: a fresh count of failures
            row.disabled_reason = None
            row.consecutive_failures = 0
    await _audit(session, who, owner, "webhook.update", row)
    await session.commit()
    return view(owner, row)


async def remove(session: AsyncSession, who: Identity, owner: Owner, webhook_id: int) -> None:
    row = await _get(session, owner, webhook_id)
    await _audit(session, who, owner, "webhook.delete", row)
    await session.delete(row)
    await session.commit()


def delivery_view(row: models.WebhookDelivery, log: list[models.WebhookAttempt]) -> WebhookDelivery:
    return WebhookDelivery(
        id=row.id,
        webhook=row.webhook_id,
        serial=row.serial,
        action=row.action,
        status=row.status,
        attempts=row.attempts,
        next_attempt=row.next_attempt if row.status == "pending" else None,
        last_code=row.last_code,
        last_error=row.last_error,
        redelivery_of=row.redelivery_of,
        created=row.created,
        delivered=row.delivered,
        log=[
            WebhookAttempt(
                at=a.at, response_code=a.response_code, duration_ms=a.duration_ms, error=a.error
            )
            for a in log
        ],
    )


async def deliveries(
    session: AsyncSession, owner: Owner, webhook_id: int, before: int | None, per_page: int
) -> WebhookDeliveryPage:
    """The delivery log, newest first, each delivery with its attempts."""
    await _get(session, owner, webhook_id)
    query = (
        select(models.WebhookDelivery)
        .where(models.WebhookDelivery.webhook_id == webhook_id)
        .order_by(models.WebhookDelivery.id.desc())
        .limit(per_page + 1)
    )
    if before is not None:
        query = query.where(models.WebhookDelivery.id < before)
    rows = list(await session.scalars(query))
    more = len(rows) > per_page
    rows = rows[:per_page]
    attempts: dict[int, list[models.WebhookAttempt]] = {r.id: [] for r in rows}
    for a in await session.scalars(
        select(models.WebhookAttempt)
        .where(models.WebhookAttempt.delivery_id.in_(list(attempts)))
        .order_by(models.WebhookAttempt.id)
    ):
        attempts[a.delivery_id].append(a)
    return WebhookDeliveryPage(
        deliveries=[delivery_view(r, attempts[r.id]) for r in rows],
        next_before=rows[-1].id if more and rows else None,
    )


async def redeliver(
    session: AsyncSession, owner: Owner, webhook_id: int, delivery_id: int
) -> WebhookDelivery:
    """Queue the same change again, as a new delivery (the old one's log stays as it was)."""
    await _get(session, owner, webhook_id)
    old = await session.get(models.WebhookDelivery, delivery_id) if delivery_id <= MAX_ID else None
    if old is None or old.webhook_id != webhook_id:
        raise NotFound(
            "webhook.delivery_missing",
            _("webhook {id} has no delivery {delivery}", id=webhook_id, delivery=delivery_id),
        )
    row = models.WebhookDelivery(
        webhook_id=webhook_id,
        serial=old.serial,
        action=old.action,
        change=old.change,
        status="pending",
        attempts=0,
        next_attempt=datetime.now(UTC),
        redelivery_of=old.id,
    )
    session.add(row)
    await session.commit()
    await session.refresh(row)
    return delivery_view(row, [])
