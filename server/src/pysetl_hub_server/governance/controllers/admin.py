"""`/api/v1/admin`: quarantine, prohibited names and reserved prefixes (hub admins)."""

from __future__ import annotations

from litestar import Controller, delete, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from pysetl_hub_schemas import (
    PrefixRequest,
    ProhibitedName,
    ProhibitRequest,
    QuarantineRequest,
    QuarantineState,
    ReservedPrefix,
)
from pysetl_hub_server.accounts.permissions import Identity
from pysetl_hub_server.governance import quarantine
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.i18n.messages import _


class AdminController(Controller):
    path = "/api/v1/admin"
    tags = ["admin"]

    @post(
        "/components/{name:str}/quarantine",
        status_code=200,
        summary="Quarantine a component: hidden, files kept but not served, uploads refused",
    )
    async def quarantine(
        self,
        name: FromPath[str],
        data: JSONBody[QuarantineRequest],
        hub: NamedDependency[Hub],
        who: NamedDependency[Identity],
    ) -> QuarantineState:
        actor = quarantine.require_hub_admin(who, _("quarantine {name!r}", name=name))
        return await quarantine.quarantine(hub, actor, name, data.reason)

    @delete("/components/{name:str}/quarantine", status_code=200, summary="Release from quarantine")
    async def release(
        self, name: FromPath[str], hub: NamedDependency[Hub], who: NamedDependency[Identity]
    ) -> QuarantineState:
        actor = quarantine.require_hub_admin(who, _("release {name!r} from quarantine", name=name))
        return await quarantine.release(hub, actor, name)

    @post(
        "/prohibited-names",
        status_code=201,
        summary="Prohibit a name (and its look-alikes) for new components",
    )
    async def prohibit(
        self,
        data: JSONBody[ProhibitRequest],
        hub: NamedDependency[Hub],
        who: NamedDependency[Identity],
    ) -> ProhibitedName:
        actor = quarantine.require_hub_admin(who, _("prohibit the name {name!r}", name=data.name))
        return await quarantine.prohibit(hub, actor, data.name, data.reason)

    @post(
        "/prefixes",
        status_code=201,
        summary="Reserve a name prefix for an organization's members",
    )
    async def reserve_prefix(
        self,
        data: JSONBody[PrefixRequest],
        hub: NamedDependency[Hub],
        who: NamedDependency[Identity],
    ) -> ReservedPrefix:
        actor = quarantine.require_hub_admin(
            who, _("reserve the prefix {prefix!r}", prefix=data.prefix)
        )
        return await quarantine.reserve_prefix(hub, actor, data.organization, data.prefix)
