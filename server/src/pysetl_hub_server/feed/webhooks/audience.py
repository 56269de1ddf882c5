"""Which webhooks see which change.

An organization's webhooks see the changes of the components it owns. A user's webhooks see
the changes of the components they hold a role on now: directly, through a team, or as an
owner of the organization that owns the component (the roles of `accounts/permissions.py`).
A change is sent to a webhook that chose its action and existed before it happened.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_schemas.feed import Change
from pysetl_hub_server.db import models


async def recipients(
    session: AsyncSession, changes: Sequence[Change]
) -> list[tuple[models.Webhook, Change]]:
    hooks = list(await session.scalars(select(models.Webhook).where(models.Webhook.active)))
    names = {c.component for c in changes if c.component}
    if not hooks or not names:
        return []
    components = {
        name: (cid, org_id)
        for name, cid, org_id in await session.execute(
            select(models.Component.name, models.Component.id, models.Component.org_id).where(
                models.Component.name.in_(names)
            )
        )
    }
    users = {h.user_id for h in hooks if h.user_id is not None}
    ids = [cid for cid, _ in components.values()]
    held: set[tuple[int, int]] = set()  # (user id, component id)
    owns_org: set[tuple[int, int]] = set()  # (user id, organization id)
    if users:
        held.update(
            (u, c)
            for u, c in await session.execute(
                select(models.Role.user_id, models.Role.component_id).where(
                    models.Role.user_id.in_(users), models.Role.component_id.in_(ids)
                )
            )
        )
        held.update(
            (u, c)
            for u, c in await session.execute(
                select(models.TeamMember.user_id, models.TeamRole.component_id)
                .join(models.TeamRole, models.TeamRole.team_id == models.TeamMember.team_id)
                .where(models.TeamMember.user_id.in_(users), models.TeamRole.component_id.in_(ids))
            )
        )
        owns_org.update(
            (u, o)
            for u, o in await session.execute(
                select(models.OrgMember.user_id, models.OrgMember.org_id).where(
                    models.OrgMember.user_id.in_(users), models.OrgMember.role == "owner"
                )
            )
        )
    found = []
    for change in changes:
        if change.component not in components:
            continue
        cid, org_id = components[change.component]
        for hook in hooks:
            if change.action not in hook.events or change.serial <= hook.since_serial:
                continue
            if hook.org_id is not None:
                sees = hook.org_id == org_id
            else:
                user = hook.user_id or 0
                sees = (user, cid) in held or (org_id is not None and (user, org_id) in owns_org)
            if sees:
                found.append((hook, change))
    return found
