"""New names that only look new: `f00-bar` beside `foo-bar`, `pysetl_l0ader` beside
`pysetl-loader`. A name whose ultranormalized form is taken belongs to whoever holds the first.
"""

from __future__ import annotations

import re

from packaging.utils import canonicalize_name
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_server.db.models import Component, Role
from pysetl_hub_server.errors import Conflict

_SEPARATORS = re.compile(r"[-_.]+")
# Letters a reader takes for digits (and the reverse), as the public index folds them.
_LOOKALIKES = str.maketrans("lio", "110")


def ultranormalize(name: str) -> str:
    """`Foo_Bar`, `f00-bar`, `FOO.BAR` and `foobar` all give `f00bar`."""
    return _SEPARATORS.sub("", canonicalize_name(name)).translate(_LOOKALIKES)


async def check_new_name(session: AsyncSession, name: str, user_id: int) -> None:
    """Refuse a new component name that looks like another's, unless the caller owns that one."""
    ultra = ultranormalize(name)
    rows = await session.execute(
        select(Component.id, Component.display_name).where(Component.ultra_name == ultra)
    )
    for component_id, display in rows:
        owns = await session.scalar(
            select(Role.id).where(
                Role.component_id == component_id, Role.user_id == user_id, Role.role == "owner"
            )
        )
        if owns is None:
            raise Conflict(
                "name.too_similar",
                f"{name!r} is too similar to the existing component {display!r} (the same once "
                "separators, case and look-alike letters such as l/1 and o/0 are folded): "
                "choose a clearly different name",
            )
