"""The webhook dispatcher: follows the audit journal into a durable outbox, then delivers.

Fan-out: the dispatcher reads the public changes after its cursor (`webhook_cursor`), queues a
delivery row per (webhook, change), and moves the cursor in the same transaction, guarded by
the cursor's old value: a crash loses nothing (the rows and the cursor commit together), and of
two replicas racing for the same page one commits and the other rolls back.

Delivery: due rows are claimed for a while (`claimed_until`), POSTed, and their outcome logged
(`webhook_attempts`). A 2xx delivers; anything else (a redirect included: redirects are never
followed) is retried after `webhook_backoff` seconds, doubling up to `webhook_backoff_max`,
until `webhook_attempts` tries; a webhook whose last `webhook_disable_after` attempts all
failed is disabled, with an audit event. A crash between the POST and its log sends it again:
deliveries are at least once.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import httpx
import msgspec
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_schemas.feed import Change
from pysetl_hub_schemas.webhooks import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    WebhookPayload,
    sign,
)
from pysetl_hub_server import __version__
from pysetl_hub_server.audit.services import record
from pysetl_hub_server.db import models
from pysetl_hub_server.feed.services import changes_page
from pysetl_hub_server.feed.webhooks.audience import recipients
from pysetl_hub_server.feed.webhooks.send import Outcome, post
from pysetl_hub_server.governance import lookup
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.periodic import Periodic

FAN_OUT_PAGE = 500
DUE_BATCH = 50
PARALLEL = 8


class Dispatcher:
    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._settings = hub.settings.feed
        self._periodic = Periodic("webhooks", self.step, self._settings.webhook_interval)
        self._client: httpx.AsyncClient | None = None

    def wake(self) -> None:
        self._periodic.wake()

    def start(self) -> None:
        self._client = httpx.AsyncClient(
            follow_redirects=False,
            trust_env=False,
            timeout=self._settings.webhook_timeout,
            headers={"User-Agent": f"pysetl-hub-webhooks/{__version__}"},
        )
        self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def step(self) -> None:
        while await self.fan_out():
            pass
        await self.deliver_due()

    async def fan_out(self) -> bool:
        """Queue one page of changes; True when there may be more."""
        async with self._hub.sessions() as session:
            cursor = await session.get(models.WebhookCursor, 1)
            if cursor is None:  # a database made by create_all(), not by migrations
                session.add(models.WebhookCursor(id=1, last_serial=0))
                await session.commit()
                return True
            old = cursor.last_serial
            page = await changes_page(session, old, FAN_OUT_PAGE)
            if page.next == old:
                return False
            now = datetime.now(UTC)
            for hook, change in await recipients(session, page.changes):
                session.add(
                    models.WebhookDelivery(
                        webhook_id=hook.id,
                        serial=change.serial,
                        action=change.action,
                        change=msgspec.json.encode(change).decode(),
                        status="pending",
                        attempts=0,
                        next_attempt=now,
                    )
                )
            moved = await session.execute(
                update(models.WebhookCursor)
                .where(models.WebhookCursor.id == 1, models.WebhookCursor.last_serial == old)
                .values(last_serial=page.next)
                .execution_options(synchronize_session=False)
            )
            if moved.rowcount != 1:  # type: ignore[attr-defined]
                await session.rollback()  # another replica queued this page
                return False
            await session.commit()
            return page.more

    async def deliver_due(self) -> int:
        now = datetime.now(UTC)
        hold = now + timedelta(seconds=self._settings.webhook_timeout * 2 + 5)
        async with self._hub.sessions() as session:
            due = list(
                await session.scalars(
                    select(models.WebhookDelivery.id)
                    .join(models.Webhook, models.Webhook.id == models.WebhookDelivery.webhook_id)
                    .where(
                        models.Webhook.active,
                        models.WebhookDelivery.status == "pending",
                        models.WebhookDelivery.next_attempt <= now,
                        or_(
                            models.WebhookDelivery.claimed_until.is_(None),
                            models.WebhookDelivery.claimed_until < now,
                        ),
                    )
                    .order_by(models.WebhookDelivery.id)
                    .limit(DUE_BATCH)
                )
            )
            claimed = []
            for delivery_id in due:
                taken = await session.execute(
                    update(models.WebhookDelivery)
                    .where(
                        models.WebhookDelivery.id == delivery_id,
                        models.WebhookDelivery.status == "pending",
                        or_(
                            models.WebhookDelivery.claimed_until.is_(None),
                            models.WebhookDelivery.claimed_until < now,
                        ),
                    )
                    .values(claimed_until=hold)
                    .execution_options(synchronize_session=False)
                )
                if taken.rowcount == 1:  # type: ignore[attr-defined]
                    claimed.append(delivery_id)
            await session.commit()
        gate = asyncio.Semaphore(PARALLEL)

        async def one(delivery_id: int) -> None:
            async with gate:
                await self.deliver(delivery_id)

        await asyncio.gather(*(one(d) for d in claimed))
        return len(claimed)

    async def deliver(self, delivery_id: int) -> Outcome | None:
        async with self._hub.sessions() as session:
            delivery = await session.get(models.WebhookDelivery, delivery_id)
            hook = await session.get(models.Webhook, delivery.webhook_id) if delivery else None
            if delivery is None or hook is None:
                return None
            url, secret, hook_id = hook.url, hook.secret, hook.id
            change = msgspec.json.decode(delivery.change, type=Change)
        body = msgspec.json.encode(
            WebhookPayload(webhook=hook_id, delivery=delivery_id, change=change)
        )
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(secret, body, int(time.time())),
            EVENT_HEADER: change.action,
            DELIVERY_HEADER: str(delivery_id),
        }
        assert self._client is not None, "the dispatcher was not started"
        outcome = await post(
            self._client,
            url,
            body,
            headers,
            seconds=self._settings.webhook_timeout,
            allow_private=self._settings.webhook_allow_private,
        )
        await self._log(delivery_id, outcome)
        return outcome

    async def _log(self, delivery_id: int, outcome: Outcome) -> None:
        settings = self._settings
        now = datetime.now(UTC)
        async with self._hub.sessions() as session:
            delivery = await session.get(models.WebhookDelivery, delivery_id)
            if delivery is None:
                return
            session.add(
                models.WebhookAttempt(
                    delivery_id=delivery_id,
                    at=now,
                    response_code=outcome.code,
                    duration_ms=outcome.duration_ms,
                    error=outcome.error,
                )
            )
            delivery.attempts += 1
            delivery.last_code, delivery.last_error = outcome.code, outcome.error
            delivery.claimed_until = None
            hook = models.Webhook.id == delivery.webhook_id
            if outcome.ok:
                delivery.status, delivery.delivered = "delivered", now
                await session.execute(
                    update(models.Webhook).where(hook).values(consecutive_failures=0)
                )
            else:
                if delivery.attempts >= settings.webhook_attempts:
                    delivery.status = "failed"
                else:
                    delay = settings.webhook_backoff * 2 ** (delivery.attempts - 1)
                    delivery.next_attempt = now + timedelta(
                        seconds=min(delay, settings.webhook_backoff_max)
                    )
                # Counted in the database, not in this process: deliveries of one webhook are
                # logged concurrently, here and in other replicas.
                failures = await session.scalar(
                    update(models.Webhook)
                    .where(hook)
                    .values(consecutive_failures=models.Webhook.consecutive_failures + 1)
                    .returning(models.Webhook.consecutive_failures)
                )
                if failures is not None and failures >= settings.webhook_disable_after:
                    await self._disable(session, delivery.webhook_id, failures, outcome)
            await session.commit()

    async def _disable(
        self, session: AsyncSession, webhook_id: int, failures: int, outcome: Outcome
    ) -> None:
        """Turn the webhook off, once: whoever flips `active` records the audit event."""
        last = f"HTTP {outcome.code}" if outcome.code is not None else (outcome.error or "")
        reason = (
            f"disabled after {failures} failed deliveries in a row "
            f"(the last: {last}); fix the receiver, then enable it again"
        )[:500]
        flipped = await session.execute(
            update(models.Webhook)
            .where(models.Webhook.id == webhook_id, models.Webhook.active)
            .values(active=False, disabled_reason=reason)
            .execution_options(synchronize_session=False)
        )
        if flipped.rowcount != 1:  # type: ignore[attr-defined]
            return
        hook = await session.get(models.Webhook, webhook_id)
        assert hook is not None
        owner = (
            f"org:{await lookup.org_name(session, hook.org_id)}"
            if hook.org_id is not None
            else f"user:{await _username(session, hook.user_id)}"
        )
        await record(
            session,
            "webhook.disable",
            target=owner,
            detail={"webhook": webhook_id, "failures": failures, "last": last},
        )


async def _username(session: AsyncSession, user_id: int | None) -> str:
    user = await session.get(models.User, user_id) if user_id is not None else None
    return user.username if user else "?"
