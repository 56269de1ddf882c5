"""`/api/v1/me/webhooks` (your own) and `/api/v1/orgs/{org}/webhooks` (its owners): the same
handlers, with the owner resolved by each controller's `owner` dependency."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter

from pysetl_hub_schemas.webhooks import (
    Webhook,
    WebhookCreate,
    WebhookCreated,
    WebhookDelivery,
    WebhookDeliveryPage,
    WebhookUpdate,
)
from pysetl_hub_server.accounts.permissions import Identity
from pysetl_hub_server.bounds import MAX_ID, MAX_PER_PAGE
from pysetl_hub_server.feed.runtime import FeedRuntime
from pysetl_hub_server.feed.webhooks import services
from pysetl_hub_server.feed.webhooks.services import Owner
from pysetl_hub_server.hub import Hub


async def _me(hub: NamedDependency[Hub], who: NamedDependency[Identity]) -> Owner:
    async with hub.sessions() as session:
        return await services.me(session, who)


async def _org(
    org: FromPath[str], hub: NamedDependency[Hub], who: NamedDependency[Identity]
) -> Owner:
    async with hub.sessions() as session:
        return await services.org(session, who, org)


class _Webhooks(Controller):
    tags = ["webhooks"]

    @get("/", summary="Webhooks")
    async def listing(
        self, hub: NamedDependency[Hub], owner: NamedDependency[Owner]
    ) -> list[Webhook]:
        async with hub.sessions() as session:
            return await services.listing(session, owner)

    @post("/", status_code=201, summary="Create a webhook (its secret is shown this once)")
    async def create(
        self,
        data: JSONBody[WebhookCreate],
        hub: NamedDependency[Hub],
        who: NamedDependency[Identity],
        owner: NamedDependency[Owner],
    ) -> WebhookCreated:
        async with hub.sessions() as session:
            return await services.create(
                session, who, owner, data, hub.settings.feed.webhook_allow_private
            )

    @get("/{webhook:int}", summary="A webhook")
    async def show(
        self, webhook: FromPath[int], hub: NamedDependency[Hub], owner: NamedDependency[Owner]
    ) -> Webhook:
        async with hub.sessions() as session:
            return await services.show(session, owner, webhook)

    @patch("/{webhook:int}", summary="Change a webhook's URL or events, or enable it again")
    async def update(
        self,
        webhook: FromPath[int],
        data: JSONBody[WebhookUpdate],
        hub: NamedDependency[Hub],
        who: NamedDependency[Identity],
        owner: NamedDependency[Owner],
        feed: NamedDependency[FeedRuntime],
    ) -> Webhook:
        async with hub.sessions() as session:
            view = await services.update(
                session, who, owner, webhook, data, hub.settings.feed.webhook_allow_private
            )
        feed.dispatcher.wake()
        return view

    @delete("/{webhook:int}", status_code=204, summary="Delete a webhook and its delivery log")
    async def remove(
        self,
        webhook: FromPath[int],
        hub: NamedDependency[Hub],
        who: NamedDependency[Identity],
        owner: NamedDependency[Owner],
    ) -> None:
        async with hub.sessions() as session:
            await services.remove(session, who, owner, webhook)

    @get("/{webhook:int}/deliveries", summary="The delivery log, newest first")
    async def deliveries(
        self,
        webhook: FromPath[int],
        hub: NamedDependency[Hub],
        owner: NamedDependency[Owner],
        before: Annotated[int | None, QueryParameter(ge=1, le=MAX_ID)] = None,
        per_page: Annotated[int, QueryParameter(ge=1, le=MAX_PER_PAGE)] = 50,
    ) -> WebhookDeliveryPage:
        async with hub.sessions() as session:
            return await services.deliveries(session, owner, webhook, before, per_page)

    @post(
        "/{webhook:int}/deliveries/{delivery:int}/redeliver",
        status_code=202,
        summary="Send a delivery's change again (a new delivery)",
    )
    async def redeliver(
        self,
        webhook: FromPath[int],
        delivery: FromPath[int],
        hub: NamedDependency[Hub],
        owner: NamedDependency[Owner],
        feed: NamedDependency[FeedRuntime],
    ) -> WebhookDelivery:
        async with hub.sessions() as session:
            view = await services.redeliver(session, owner, webhook, delivery)
        feed.dispatcher.wake()
        return view


class MyWebhooks(_Webhooks):
    path = "/api/v1/me/webhooks"
    dependencies = {"owner": Provide(_me)}


class OrgWebhooks(_Webhooks):
    path = "/api/v1/orgs/{org:str}/webhooks"
    dependencies = {"owner": Provide(_org)}


ROUTES = [MyWebhooks, OrgWebhooks]
