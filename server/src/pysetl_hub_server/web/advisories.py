"""The component page's advisories: each one's id, summary, severity and affected ranges, and
which of the component's versions an open (not withdrawn) advisory affects. Read from the
stored advisories with the same range logic the OSV API answers with (advisories/ranges.py),
so the page and `pysetl-hub audit` never disagree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from packaging.version import InvalidVersion, Version
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_server.advisories.ranges import ZERO, affects, fixed_in
from pysetl_hub_server.db import models


@dataclass(frozen=True, slots=True)
class Interval:
    """Affected versions from `low` (None: every version before `high`) up to `high`
    (None: no fix yet), `high` itself included when `inclusive` (OSV `last_affected`)."""

    low: str | None
    high: str | None
    inclusive: bool = False


@dataclass(frozen=True, slots=True)
class AdvisoryView:
    id: str
    summary: str
    aliases: list[str]
    severity: list[str]  # CVSS vectors
    intervals: list[Interval]
    versions: list[str]  # listed affected versions
    fixed: list[str]
    published: datetime
    withdrawn: datetime | None


def intervals(affected: list[dict[str, Any]]) -> list[Interval]:
    """The stored ranges (events sorted when published) as intervals."""
    found = []
    for entry in affected:
        for r in entry.get("ranges", []):
            low: str | None = None
            for event in r["events"]:
                ((kind, value),) = event.items()
                if kind == "introduced":
                    low = None if value == ZERO else value
                    found.append(Interval(low, None))
                elif found:
                    found[-1] = Interval(low, value, inclusive=kind == "last_affected")
    return found


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def view(a: models.Advisory) -> AdvisoryView:
    return AdvisoryView(
        id=a.osv_id,
        summary=a.summary,
        aliases=list(a.aliases),
        severity=[s["score"] for s in a.severity],
        intervals=intervals(a.affected),
        versions=[v for entry in a.affected for v in entry.get("versions", [])],
        fixed=fixed_in(a.affected),
        published=a.published,
        withdrawn=a.withdrawn,
    )


async def of_component(
    session: AsyncSession, component_id: int, versions: list[str]
) -> tuple[list[AdvisoryView], dict[str, list[str]]]:
    """The component's advisories (newest first, withdrawn ones included and marked), and for
    each of `versions` the ids of the open advisories that affect it."""
    rows = list(
        await session.scalars(
            select(models.Advisory)
            .where(models.Advisory.component_id == component_id)
            .order_by(models.Advisory.published.desc(), models.Advisory.id.desc())
        )
    )
    hits: dict[str, list[str]] = {}
    for text in versions:
        version = _version(text)
        if version is None:
            continue
        ids = [a.osv_id for a in rows if a.withdrawn is None and affects(a.affected, version)]
        if ids:
            hits[text] = ids
    return [view(a) for a in rows], hits
