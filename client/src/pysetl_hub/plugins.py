"""Installed PySetl components of this interpreter, found through their entry points.

for plugin in factories(): print(plugin.spec, plugin.distribution)
CsvDedupe = load_factory("csv-dedupe:CsvDedupe")
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from packaging.utils import canonicalize_name

from pysetl_hub.errors import HubError
from pysetl_hub.i18n import _
from pysetl_hub_schemas import FACTORIES, GROUPS, PIPELINES


class PluginNotFound(HubError, LookupError):
    def __init__(self, spec: str, group: str, available: list[str]) -> None:
        kind = GROUPS[group]
        listing = ", ".join(available) if available else _("none")
        if kind == "factory":
            text = _("no installed factory {spec}; installed: {installed}")
        else:
            text = _("no installed pipeline {spec}; installed: {installed}")
        super().__init__(text.format(spec=repr(spec), installed=listing))
        self.spec, self.group, self.available = spec, group, available
        self.hint = _(
            "install it with `pysetl-hub install NAME`, or check the name with `pysetl-hub list`"
        )


@dataclass(frozen=True)
class Plugin:
    """One entry point of an installed component."""

    distribution: str
    version: str
    name: str
    group: str
    value: str

    @property
    def spec(self) -> str:
        return f"{canonicalize_name(self.distribution)}:{self.name}"

    @property
    def kind(self) -> str:
        return GROUPS[self.group]

    def load(self) -> Any:
        return metadata.EntryPoint(self.name, self.value, self.group).load()


def _plugins(group: str) -> Iterator[Plugin]:
    seen: set[tuple[str, str]] = set()
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        for ep in dist.entry_points:
            if ep.group == group and (name, ep.name) not in seen:
                seen.add((name, ep.name))
                yield Plugin(name, dist.version, ep.name, group, ep.value)


def factories() -> Iterator[Plugin]:
    return _plugins(FACTORIES)


def pipelines() -> Iterator[Plugin]:
    return _plugins(PIPELINES)


def _load(spec: str, group: str) -> Any:
    """`spec` is `distribution:EntryPointName`, or just the entry point name when unambiguous."""
    dist, _colon, ep = spec.rpartition(":")
    found = list(_plugins(group))
    matches = [
        p
        for p in found
        if p.name == ep
        and (not dist or canonicalize_name(p.distribution) == canonicalize_name(dist))
    ]
    if len(matches) != 1:
        if len(matches) > 1:
            raise HubError(
                _("{spec} is ambiguous: {matches}; write it as distribution:Name").format(
                    spec=repr(spec), matches=", ".join(p.spec for p in matches)
                )
            )
        raise PluginNotFound(spec, group, sorted(p.spec for p in found))
    return matches[0].load()


def load_factory(spec: str) -> Any:
    """The Factory class of an installed component."""
    return _load(spec, FACTORIES)


def load_pipeline(spec: str) -> Any:
    """The pipeline object (or builder) of an installed component."""
    return _load(spec, PIPELINES)
