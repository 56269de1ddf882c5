"""Entry points: the grammar of the specification for every group, and the PySetl ones found.

A PySetl entry point's name becomes a plugin name on users' machines and a label on the hub's
pages, and its value is what gets imported: `../../evil` or `x; import os` must never get that
far. Other groups keep the specification's wider grammar, so real packages are not refused.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass

from pysetl_hub_schemas import FACTORIES, GROUPS
from pysetl_hub_server.errors import InvalidUpload
from pysetl_hub_server.i18n.messages import Message, _
from pysetl_hub_server.publishing.archive import ArchiveContents
from pysetl_hub_server.text import describe, forbidden_character

# The specification's recommendation, made the rule for PySetl's own groups.
PYSETL_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")
# `module.path:object.attr [extra, ...]` (extras are deprecated but part of the grammar).
_REFERENCE = re.compile(
    r"(?P<module>[^:\[\]\s]+)(\s*:\s*(?P<attr>[^:\[\]\s]+))?(?P<extras>\s*\[[^\]]*\])?"
)
_EXTRA = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")


@dataclass(frozen=True, slots=True)
class EntryPointInfo:
    group: str
    name: str
    value: str
    kind: str


def _bad(detail: Message) -> InvalidUpload:
    return InvalidUpload("entry_point.invalid", detail)


def _dotted(text: str) -> bool:
    parts = text.split(".")
    return all(p.isidentifier() and not keyword.iskeyword(p) for p in parts)


def check_entry_point(group: str, name: str, value: str) -> None:
    """One entry point against the entry-points specification (stricter for PySetl groups)."""
    where = _("entry point {name!r} in group {group!r}", name=name[:60], group=group[:60])
    for text in (group, name, value):
        if (bad := forbidden_character(text, multiline=False)) is not None:
            raise _bad(
                _(
                    "{where} holds the character {bad}: remove it and build again",
                    where=where,
                    bad=describe(bad),
                )
            )
    if group in GROUPS:
        if PYSETL_NAME.fullmatch(name) is None:
            raise _bad(
                _(
                    "{where}: a PySetl entry point's name is 1-100 ASCII letters, digits, '_', "
                    "'.' or '-' and starts with a letter, digit or '_'; rename it, e.g. "
                    "`MyFactory`",
                    where=where,
                )
            )
    elif not name or name != name.strip() or name.startswith("["):
        raise _bad(
            _(
                "{where}: a name must not be empty, start or end with whitespace, or start with"
                " '['; rename it",
                where=where,
            )
        )
    grammatical, names_object = _reference(value)
    if not grammatical or (group in GROUPS and not names_object):
        raise _bad(
            _(
                "{where} has the value {value!r}, which is not an object reference: write "
                "`package.module:ObjectName` (dotted Python identifiers, e.g. "
                "`my_pkg.factories:MyFactory`)",
                where=where,
                value=value[:80],
            )
        )


def _reference(value: str) -> tuple[bool, bool]:
    """Does `value` follow the object-reference grammar, and does it name an object?"""
    match = _REFERENCE.fullmatch(value.strip())
    if match is None:
        return False, False
    attr, extras = match["attr"], match["extras"]
    grammatical = (
        _dotted(match["module"])
        and (attr is None or _dotted(attr))
        and (extras is None or _extras_ok(extras))
    )
    return grammatical, attr is not None


def _extras_ok(extras: str) -> bool:
    inner = extras.strip()[1:-1]
    return all(_EXTRA.fullmatch(e.strip()) for e in inner.split(",") if e.strip())


def pysetl_entry_points(contents: ArchiveContents) -> list[EntryPointInfo]:
    """Every entry point follows the grammar; at least one is in a PySetl group."""
    for group, entries in contents.entry_points.items():
        for name, value in entries.items():
            check_entry_point(group, name, value)
    found = [
        EntryPointInfo(group, name, value.strip(), kind)
        for group, kind in GROUPS.items()
        for name, value in sorted(contents.entry_points.get(group, {}).items())
    ]
    if not found:
        groups = " or ".join(repr(g) for g in GROUPS)
        raise InvalidUpload(
            "component.not_pysetl",
            _(
                "not a PySetl component: the distribution declares no entry point in {groups}; "
                'add one, e.g. [project.entry-points."{FACTORIES}"] MyFactory = '
                '"my_pkg:MyFactory"',
                groups=groups,
                FACTORIES=FACTORIES,
            ),
        )
    return found
