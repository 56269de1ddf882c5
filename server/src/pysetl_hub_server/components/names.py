"""Which new names may be taken, and by whom.

- Look-alikes: `f00-bar` beside `foo-bar`, `pysetl_l0ader` beside `pysetl-loader`. A name whose
  ultranormalized form is taken belongs to whoever holds the first.
- Prohibited names: admins take a name (and its look-alikes) out of use.
- Reserved prefixes: only members of globex may create `globex-*`, or a look-alike of it
  (`gl0bex-*`, `GIobex-*`, `glo_bex-*`).
"""

from __future__ import annotations

import re

from packaging.utils import canonicalize_name
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_server.db.models import (
    Component,
    Organization,
    OrgMember,
    ProhibitedName,
    ReservedPrefix,
    Role,
)
from pysetl_hub_server.errors import Conflict, Forbidden
from pysetl_hub_server.i18n.messages import _

_SEPARATORS = re.compile(r"[-_.]+")
# Letters a reader takes for digits (and the reverse), as the public index folds them.
_LOOKALIKES = str.maketrans("lio", "110")


def ultranormalize(name: str) -> str:
    """`Foo_Bar`, `f00-bar`, `FOO.BAR` and `foobar` all give `f00bar`."""
    return _SEPARATORS.sub("", canonicalize_name(name)).translate(_LOOKALIKES)


def prefixes_of(name: str) -> list[str]:
    """The reserved prefixes that could cover `name`: `acme-etl-x` -> acme, acme-etl, ..."""
    parts = canonicalize_name(name).split("-")
    return ["-".join(parts[:i]) for i in range(1, len(parts) + 1)]


async def check_new_name(session: AsyncSession, name: str, user_id: int) -> None:
    """Refuse a new component name that is prohibited, inside another organization's reserved
    prefix, or looks like another's (unless the caller owns that one)."""
    ultra = ultranormalize(name)
    prohibited = await session.scalar(
        select(ProhibitedName).where(
            (ProhibitedName.name == canonicalize_name(name)) | (ProhibitedName.ultra_name == ultra)
        )
    )
    if prohibited is not None:
        raise Forbidden(
            "name.prohibited",
            _(
                "{name!r} may not be used on this hub ({prohibited!r} is prohibited: {reason}): "
                "choose another name",
                name=name,
                prohibited=prohibited.name,
                reason=prohibited.reason,
            )
            if prohibited.reason
            else _(
                "{name!r} may not be used on this hub ({prohibited!r} is prohibited): choose "
                "another name",
                name=name,
                prohibited=prohibited.name,
            ),
        )
    # Compared folded, as look-alikes are: `GIobex-x` and `gl0bex-x` read as `globex-x`. The
    # table holds a few rows per organization, so it is read whole.
    folded = {ultranormalize(p) for p in prefixes_of(name)}
    reserved = await session.execute(
        select(ReservedPrefix.prefix, Organization.id, Organization.display_name).join(
            Organization, Organization.id == ReservedPrefix.org_id
        )
    )
    for prefix, org_id, org_name in reserved:
        if ultranormalize(prefix) not in folded:
            continue
        member = await session.scalar(
            select(OrgMember.id).where(OrgMember.org_id == org_id, OrgMember.user_id == user_id)
        )
        if member is None:
            raise Forbidden(
                "name.reserved",
                _(
                    "names starting with {prefix!r} are reserved for the organization "
                    "{org_name!r}: only its members may create {name!r}; ask an owner of "
                    "{org_name!r} to add you, or choose another name",
                    prefix=prefix,
                    org_name=org_name,
                    name=name,
                ),
                organization=org_name,
            )
    rows = await session.execute(
        select(Component.id, Component.display_name, Component.quarantined_at).where(
            Component.ultra_name == ultra
        )
    )
    for component_id, display, quarantined in rows:
        owns = await session.scalar(
            select(Role.id).where(
                Role.component_id == component_id, Role.user_id == user_id, Role.role == "owner"
            )
        )
        # Not even its owner takes a look-alike of a quarantined name: what is under review
        # would be back at once under a name that reads the same.
        if owns is None or quarantined is not None:
            raise Conflict(
                "name.too_similar",
                _(
                    "{name!r} is too similar to the existing component {display!r} (the same "
                    "once separators, case and look-alike letters such as l/1 and o/0 are "
                    "folded): choose a clearly different name",
                    name=name,
                    display=display,
                ),
            )
