"""Which versions an advisory affects: OSV `ECOSYSTEM` ranges and listed versions, compared as
PEP 440 versions (`packaging`), never as strings (`1.10` is after `1.9`).

A range's events are sorted by version and walked as the OSV schema's evaluation describes:
`introduced` opens an interval, `fixed` (exclusive) or `last_affected` (inclusive) closes it.
Checked once at publish time so a stored range is always well formed.
"""

from __future__ import annotations

from typing import Any

from packaging.version import InvalidVersion, Version

from pysetl_hub_schemas.osv import AdvisoryAffected, AdvisoryEvent
from pysetl_hub_server.bounds import MAX_VERSION
from pysetl_hub_server.errors import BadRequest
from pysetl_hub_server.i18n.messages import _

# OSV's "0": every version, the pre-releases of the first one included.
ZERO = "0"
_KINDS = ("introduced", "fixed", "last_affected")


def parse_version(text: str, where: str) -> Version:
    """A PEP 440 version, or a 400. Longer than any release's version is refused before it is
    parsed: a run of digits past Python's int-conversion limit is a ValueError, not an
    InvalidVersion."""
    try:
        if len(text) > MAX_VERSION:
            raise InvalidVersion(text)
        return Version(text)
    except InvalidVersion as exc:
        raise BadRequest(
            "advisory.version",
            _(
                "{where}: {version!r} is not a PEP 440 version; write versions as the "
                "component's releases are numbered (1.2.0, 2.0rc1)",
                where=where,
                version=text[:100],
            ),
        ) from exc


def _event(e: AdvisoryEvent) -> tuple[str, str]:
    set_ = [(k, getattr(e, k)) for k in _KINDS if getattr(e, k) is not None]
    if len(set_) != 1:
        raise BadRequest(
            "advisory.range",
            _(
                "each range event has exactly one of introduced, fixed or last_affected; "
                "write one event per boundary"
            ),
        )
    return set_[0]


def _key(kind: str, value: str) -> tuple[int, Version | None]:
    return (0, None) if kind == "introduced" and value == ZERO else (1, Version(value))


def _sorted(events: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return sorted(events, key=lambda e: (_key(*e)[0], _key(*e)[1] or Version("0")))


def check_events(events: list[AdvisoryEvent]) -> list[dict[str, str]]:
    """The range's events, checked and sorted: intervals that each open with `introduced` and
    close above where they opened, not overlapping."""
    pairs = [_event(e) for e in events]
    for kind, value in pairs:
        if not (kind == "introduced" and value == ZERO):
            parse_version(value, kind)
    ordered = _sorted(pairs)
    opened: str | None = None
    for kind, value in ordered:
        if kind == "introduced":
            if opened is not None:
                raise _bad_range(_("two introduced events ({a}, {b}) without a fix between them",
                                   a=opened, b=value))  # fmt: skip
            opened = value
            continue
        if opened is None:
            raise _bad_range(_("{kind} {version} closes no interval: no introduced event comes "
                               "before it", kind=kind, version=value))  # fmt: skip
        # Sorted, a close below its opening has no opening before it (above); what is left is
        # a fix at the very version it opened (exclusive: it would close an empty interval).
        # A last_affected there is fine: inclusive, that one version is affected.
        if kind == "fixed" and opened != ZERO and Version(value) <= Version(opened):
            raise _bad_range(_("fixed {fixed} is not after introduced {introduced}",
                               fixed=value, introduced=opened))  # fmt: skip
        opened = None
    if not ordered:
        raise _bad_range(_("a range needs at least an introduced event"))
    return [{kind: value} for kind, value in ordered]


def _bad_range(why: object) -> BadRequest:
    return BadRequest(
        "advisory.range",
        _(
            "bad affected range: {why}; a range is a list of intervals, each an introduced "
            'event ("0" for every version) and a fixed or last_affected event after it',
            why=why,
        ),
    )


def check_affected(entry: AdvisoryAffected) -> dict[str, Any]:
    """One affected entry as stored: checked ranges and listed versions."""
    if not entry.ranges and not entry.versions:
        raise _bad_range(_("an affected entry lists no ranges and no versions"))
    versions = [str(parse_version(v, "versions")) for v in entry.versions]
    return {
        "ranges": [{"type": r.type, "events": check_events(r.events)} for r in entry.ranges],
        "versions": versions,
    }


def _in_range(version: Version, events: list[dict[str, str]]) -> bool:
    affected = False
    for event in events:  # sorted when stored
        ((kind, value),) = event.items()
        if kind == "introduced":
            if value == ZERO or version >= Version(value):
                affected = True
        elif (kind == "fixed" and version >= Version(value)) or (
            kind == "last_affected" and version > Version(value)
        ):
            affected = False
    return affected


def affects(affected: list[dict[str, Any]], version: Version) -> bool:
    """Whether a stored advisory's affected entries include `version`."""
    for entry in affected:
        if any(Version(v) == version for v in entry.get("versions", [])):
            return True
        if any(_in_range(version, r["events"]) for r in entry.get("ranges", [])):
            return True
    return False


def fixed_in(affected: list[dict[str, Any]]) -> list[str]:
    """The versions that fix it (PyPI's `fixed_in`), in version order."""
    found = {
        value
        for entry in affected
        for r in entry.get("ranges", [])
        for event in r["events"]
        for kind, value in event.items()
        if kind == "fixed"
    }
    return sorted(found, key=Version)
