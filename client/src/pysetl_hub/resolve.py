"""Compatibility-aware resolution: the newest release that really runs in the target environment.

Pure functions over the hub's `Component` views: no I/O, so the rules are unit- and
property-tested directly. `resolve` walks dependencies: a dependency the hub hosts comes from the
hub with the same rules; anything else (PySpark, pandas, ...) is left to the installer and its
own index, so a look-alike name on the hub can never replace a PyPI package by accident.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import (
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from pysetl_hub.environment import Environment
from pysetl_hub.errors import BadRequirement, NotOnHub, Rejection, ResolutionError
from pysetl_hub.i18n import _
from pysetl_hub_schemas import PLATFORM_DISTS, Component, FileInfo, Release

# Platform packages: never taken from the hub, whatever it hosts.
PLATFORM = frozenset(PLATFORM_DISTS.values())
MAX_RESTARTS = 50
# (name, version) -> ids of the advisories that affect it.
Affected = Callable[[str, str], list[str]]


@dataclass(frozen=True)
class Pick:
    """One release chosen for the environment, and the file to install."""

    name: str
    version: str
    release: Release
    file: FileInfo
    required_by: str | None = None
    advisories: tuple[str, ...] = ()  # ids of advisories that affect this version
    skipped: tuple[str, ...] = ()  # newer versions passed over, and why


@dataclass
class Plan:
    picks: list[Pick]
    external: list[str] = field(default_factory=list)  # requirements left to the installer


def parse_requirement(text: str) -> Requirement:
    try:
        return Requirement(text)
    except InvalidRequirement as exc:
        raise BadRequirement(text, str(exc)) from exc


def exact_pin(spec: SpecifierSet) -> bool:
    """True for `==V` / `===V` without a wildcard: the only way to ask for a yanked release."""
    specs = list(spec)
    return (
        len(specs) == 1
        and specs[0].operator in ("==", "===")
        and not specs[0].version.endswith(".*")
    )


def _admits(spec: str | None, version: str | None) -> bool:
    if not spec or version is None:
        return True  # no constraint, or the installer will bring a version that satisfies it
    try:
        return SpecifierSet(spec).contains(version, prereleases=True)
    except (InvalidSpecifier, InvalidVersion):
        return False


def best_file(release: Release, env: Environment) -> FileInfo | None:
    """The wheel with the most specific tag this environment supports, else the sdist."""
    priority = {t: i for i, t in enumerate(env.tags)}
    best: tuple[int, FileInfo] | None = None
    sdist = None
    for f in release.files:
        if f.packagetype == "sdist":
            sdist = f
            continue
        try:
            _, _, _, file_tags = parse_wheel_filename(f.filename)
        except InvalidWheelFilename:
            continue
        ranks = [priority[str(t)] for t in file_tags if str(t) in priority]
        if ranks and (best is None or min(ranks) < best[0]):
            best = (min(ranks), f)
    return best[1] if best else sdist


def why_not(
    release: Release, spec: SpecifierSet, env: Environment, *, allow_yanked: bool
) -> str | None:
    """The reason `release` cannot be used, or None when it can."""
    v = release.version
    if not spec.contains(v, prereleases=True):
        return _("excluded by {specifier}").format(specifier=spec)
    if release.yanked and not allow_yanked:
        if release.yanked_reason:
            return _("yanked ({reason}); pin it with =={version} to use it anyway").format(
                reason=release.yanked_reason, version=v
            )
        return _("yanked; pin it with =={version} to use it anyway").format(version=v)
    c = release.compatibility
    if not _admits(c.requires_python, env.python_version):
        return _("needs Python {needed}, you have {have}").format(
            needed=c.requires_python, have=env.python_version
        )
    if not _admits(c.pysetl, env.pysetl):
        return _("needs pysetl{needed}, you have {have}").format(needed=c.pysetl, have=env.pysetl)
    if not _admits(c.pyspark, env.pyspark):
        return _("needs pyspark{needed}, you have {have}").format(
            needed=c.pyspark, have=env.pyspark
        )
    if best_file(release, env) is None:
        files = ", ".join(f.filename for f in release.files) or _("no files")
        return _("no file for this platform ({files})").format(files=files)
    return None


def _affected_by(ids: list[str]) -> str:
    return _("affected by {advisories}").format(advisories=", ".join(ids))


def choose(
    component: Component,
    spec: SpecifierSet,
    env: Environment,
    *,
    required_by: str | None = None,
    affected: Affected | None = None,
    require_safe: bool = False,
) -> Pick:
    """The newest usable release of `component` within `spec` (PEP 440, PEP 592 rules).

    A release an advisory affects (`affected`) is passed over for an older one that is not;
    when every usable release is affected the newest is taken all the same (the install warns)
    unless `require_safe`, which makes an affected release unusable."""
    allow_yanked = exact_pin(spec)
    releases = []
    for r in component.releases:
        try:
            releases.append((Version(r.version), r))
        except InvalidVersion:
            continue
    releases.sort(key=lambda vr: vr[0], reverse=True)
    rejections: list[Rejection] = []
    # Pre-releases only when the specifier names one, or when no final release fits (as pip).
    passes = [bool(spec.prereleases)] if spec.prereleases else [False, True]
    unsafe = False  # a release was refused for its advisories only
    for with_pre in passes:
        rejections = []
        fallback: Pick | None = None
        skipped: list[str] = []
        for v, r in releases:
            if v.is_prerelease and not with_pre:
                continue  # the last pass always takes pre-releases: only its reasons are shown
            reason = why_not(r, spec, env, allow_yanked=allow_yanked)
            if reason is None:
                f = best_file(r, env)
                assert f is not None
                ids = affected(component.name, r.version) if affected else []
                if not ids:
                    return Pick(
                        component.display_name, r.version, r, f, required_by,
                        skipped=tuple(skipped),
                    )  # fmt: skip
                if require_safe:
                    unsafe = True
                    rejections.append(Rejection(r.version, _affected_by(ids)))
                    continue
                skipped.append(
                    _("skipped {version}: {why}").format(version=r.version, why=_affected_by(ids))
                )
                if fallback is None:
                    fallback = Pick(
                        component.display_name, r.version, r, f, required_by, advisories=tuple(ids)
                    )
                continue
            rejections.append(Rejection(r.version, reason))
        if fallback is not None:
            return fallback  # every usable release is affected: the newest, with its advisories
    requirement = f"{component.display_name}{spec}"
    if not releases:
        raise ResolutionError(
            requirement, [], _("{name} has no releases").format(name=component.display_name)
        )
    raise ResolutionError(
        requirement,
        rejections,
        _("no release of {requirement} fits {environment}").format(
            requirement=requirement, environment=env.describe()
        ),
        hint=_(
            "the releases that fit are affected by advisories and --require-safe refuses them: "
            "wait for a fixed release, or install without --require-safe at your own risk"
        )
        if unsafe
        else "",
    )


def _wanted(req: Requirement, env: Environment, extras: Iterable[str]) -> bool:
    if req.marker is None:
        return True
    return any(req.marker.evaluate({**env.markers, "extra": e}) for e in (*extras, ""))


def resolve(
    requirements: list[str],
    env: Environment,
    fetch: Callable[[str], Component | None],
    *,
    with_deps: bool = True,
    affected: Affected | None = None,
    require_safe: bool = False,
) -> Plan:
    """Pick a release for each requirement and, recursively, each dependency the hub hosts.

    `fetch(name)` returns the hub's view of a component, or None when the hub does not host it;
    `affected(name, version)` the advisories that affect a release (see `choose`).
    """
    roots = [parse_requirement(r) for r in requirements]
    cache: dict[NormalizedName, Component | None] = {}

    def lookup(name: NormalizedName) -> Component | None:
        if name not in cache:
            cache[name] = fetch(name)
        return cache[name]

    for req in roots:
        if lookup(canonicalize_name(req.name)) is None:
            raise NotOnHub(str(req), req.name)
    constraints: dict[NormalizedName, list[tuple[Requirement, str | None]]] = {}
    for _attempt in range(MAX_RESTARTS):
        picks: dict[NormalizedName, Pick] = {}
        external: dict[str, None] = {}
        queue: list[tuple[Requirement, str | None, frozenset[str]]] = [
            (r, None, frozenset()) for r in roots
        ]
        restart = False
        while queue and not restart:
            req, parent, parent_extras = queue.pop(0)
            if not _wanted(req, env, parent_extras):
                continue
            key = canonicalize_name(req.name)
            component = None if (parent and key in PLATFORM) else lookup(key)
            if component is None:
                external[str(req)] = None
                continue
            seen = constraints.setdefault(key, [])
            if (req, parent) not in seen:
                seen.append((req, parent))
            spec = SpecifierSet(",".join(str(r.specifier) for r, _by in seen if r.specifier))
            current = picks.get(key)
            if current is not None:
                if spec.contains(current.version, prereleases=True):
                    continue
                restart = True  # a later constraint rules out an earlier pick: start over with it
                break
            try:
                pick = choose(
                    component,
                    spec,
                    env,
                    required_by=parent,
                    affected=affected,
                    require_safe=require_safe,
                )
            except ResolutionError as exc:
                if len(seen) == 1 and seen[0][1] is None:
                    raise
                asked = "; ".join(
                    _("{requirement} by {parent}").format(requirement=r, parent=p)
                    if p
                    else _("{requirement} by you").format(requirement=r)
                    for r, p in seen
                )
                raise ResolutionError(
                    exc.requirement,
                    exc.rejections,
                    _("{summary} (asked for: {asked})").format(summary=exc.summary, asked=asked),
                ) from exc
            picks[key] = pick
            if with_deps:
                for dep in pick.release.requires_dist:
                    try:
                        queue.append((Requirement(dep), pick.name, frozenset(req.extras)))
                    except InvalidRequirement:
                        external[dep] = None  # the installer will say what is wrong with it
        if not restart:
            return Plan(list(picks.values()), list(external))
    raise ResolutionError(
        ", ".join(requirements), [], _("dependencies keep conflicting; pin the versions you need")
    )
