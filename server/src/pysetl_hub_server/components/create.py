"""Creating a component: the first upload, or a trusted publisher registered for a new name.

One path for both, so the name rules and the first owner are the same whichever came first.
"""

from __future__ import annotations

from packaging.utils import canonicalize_name
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_server.accounts.permissions import Identity, require_user_wide
from pysetl_hub_server.audit.services import touch
from pysetl_hub_server.components.names import check_new_name, ultranormalize
from pysetl_hub_server.db.models import Component, Role
from pysetl_hub_server.hub import RateLimits


async def create_component(
    session: AsyncSession,
    who: Identity,
    name: str,
    display_name: str | None = None,
    *,
    limits: RateLimits,
) -> Component:
    """A new, empty component owned by the caller (flushed, not committed).

    Every new name counts against the caller's `create_name` limit (20 an hour by default),
    whichever path made it, so squatting names by the hundred takes days, not a script.
    """
    require_user_wide(who, name)
    await check_new_name(session, name, who.user_id)
    await limits.hit("create_name", f"user:{who.user_id}")
    component = Component(
        name=canonicalize_name(name),
        display_name=display_name or name,
        ultra_name=ultranormalize(name),
    )
    session.add(component)
    await session.flush()
    session.add(Role(user_id=who.user_id, component_id=component.id, role="owner"))
    await touch(session, component, "component.create", actor=who.actor)
    return component
