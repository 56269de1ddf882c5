"""The outbox under concurrency, in process: two dispatchers (two replicas) follow one journal
and queue each change once; deliveries claimed by one are not sent by the other; a dispatcher
started after changes were made (a restart) catches up from its stored cursor."""

from __future__ import annotations

import asyncio
import dataclasses
import json

from sqlalchemy import func, select

from pysetl_hub_server.accounts.services import create_user
from pysetl_hub_server.audit.services import last_serial, touch
from pysetl_hub_server.db import models
from pysetl_hub_server.feed.webhooks.dispatch import Dispatcher
from pysetl_hub_server.hub import Hub
from tests.server.feed.conftest import FAST
from tests.server.feed.receiver import receiver


async def test_two_dispatchers_queue_and_send_each_change_once(offline_hub: Hub) -> None:
    hub = dataclasses.replace(
        offline_hub, settings=dataclasses.replace(offline_hub.settings, feed=FAST)
    )
    with receiver(lambda n: 200) as rx:
        async with hub.sessions() as session:
            user = await create_user(session, "kim", "kim@example.org", "password123")
            component = models.Component(name="outbox-x", display_name="outbox-x", ultra_name="")
            session.add(component)
            await session.flush()
            session.add(models.Role(user_id=user.id, component_id=component.id, role="owner"))
            session.add(
                models.Webhook(
                    user_id=user.id,
                    url=rx.url,
                    events=["release.create"],
                    secret="whsec_test",
                    active=True,
                    consecutive_failures=0,
                    since_serial=await last_serial(session),
                )
            )
            for n in range(12):  # made while no dispatcher runs: queued on the next start
                await touch(
                    session, component, "release.create", actor=None, detail={"version": f"{n}.0"}
                )
            head = await last_serial(session)
            await session.commit()

        a, b = Dispatcher(hub), Dispatcher(hub)
        a.start()  # (their periodic loops run too: all the more contention)
        b.start()
        try:
            await asyncio.gather(a.step(), b.step(), a.step(), b.step())
            # Until every send is logged, not only received: an attempt is written after its
            # answer, and stopping first leaves it to the next start (at least once).
            for _ in range(200):
                async with hub.sessions() as session:
                    logged = await session.scalar(
                        select(func.count()).select_from(models.WebhookAttempt)
                    )
                if len(rx.got) >= 12 and logged == 12:
                    break
                await asyncio.sleep(0.05)
        finally:
            await a.stop()
            await b.stop()

        async with hub.sessions() as session:
            cursor = await session.get(models.WebhookCursor, 1)
            assert cursor is not None and cursor.last_serial == head
            queued = await session.scalar(select(func.count()).select_from(models.WebhookDelivery))
            attempts = await session.scalar(select(func.count()).select_from(models.WebhookAttempt))
        assert queued == 12
        assert attempts == 12
        sent = sorted(json.loads(g.body)["change"]["version"] for g in rx.got)
        assert sent == sorted(f"{n}.0" for n in range(12))  # each once
