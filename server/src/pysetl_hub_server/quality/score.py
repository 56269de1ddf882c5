"""The quality score, a pure function of visible signals: each has a weight (points out of
100), a value in [0, 1] and a sentence saying why. No hand grading: every input is something
the hub stores or reads from the stored files (quality/inputs.py gathers them).

docs/concepts/quality.md explains each signal and how to improve it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

WEIGHTS = {
    "provenance": 15,
    "readme": 15,
    "license": 10,
    "tests": 10,
    "compatibility": 15,
    "recent": 10,
    "yanked": 5,
    "advisories": 10,
    "documented": 10,
}
assert sum(WEIGHTS.values()) == 100

README_FULL = 1000  # characters of README text (beyond the title) for the full length part
README_MIN = 150  # below this a README is a title and a sentence: no length credit
RECENT_FULL_DAYS = 180  # a release this recent gets full credit...
RECENT_NONE_DAYS = 730  # ...fading linearly to none at two years

_HEADING = re.compile(r"^(#{1,6} \S|[=\-~^*]{3,}\s*$)", re.MULTILINE)
_CODE = re.compile(r"^(```|~~~|\.\. code|::\s*$|    \S)", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Inputs:
    """Everything the score reads, already gathered (so each signal is testable alone)."""

    name: str
    now: datetime
    attested: bool = False  # every file of the latest release carries a verified attestation
    trusted_publisher: bool = False  # the component names at least one trusted publisher
    readme: str | None = None
    license: str | None = None
    has_sdist: bool = False
    sdist_tests: bool = False
    pysetl_latest: str | None = None  # the newest PySetl the hub knows
    admits_pysetl_latest: bool = False
    admits_supported_python: bool = False
    latest_release_at: datetime | None = None
    releases: int = 0
    yanked: int = 0
    open_advisories: int = 0
    documented: dict[str, bool] = field(default_factory=dict)  # entry point -> has docstring


@dataclass(frozen=True, slots=True)
class Signal:
    key: str
    weight: int
    value: float  # 0..1
    explanation: str

    @property
    def points(self) -> float:
        return self.weight * self.value


@dataclass(frozen=True, slots=True)
class Score:
    total: int
    signals: list[Signal]


def _signal(key: str, value: float, explanation: str) -> Signal:
    return Signal(key, WEIGHTS[key], round(min(1.0, max(0.0, value)), 3), explanation)


def provenance(i: Inputs) -> Signal:
    value = 0.5 * i.attested + 0.5 * i.trusted_publisher
    parts = [
        "every file of the latest release is attested" if i.attested else "unattested files",
        "a trusted publisher is registered" if i.trusted_publisher else "no trusted publisher",
    ]
    return _signal("provenance", value, "; ".join(parts))


def readme_text(readme: str | None, name: str) -> str:
    """The README without blank lines and lines that only repeat the name (a title)."""
    folded = re.sub(r"[-_.\s#=*`]+", "", name).lower()
    kept = [
        line
        for line in (readme or "").splitlines()
        if line.strip() and re.sub(r"[-_.\s#=*`]+", "", line).lower() not in ("", folded)
    ]
    return "\n".join(kept)


def readme(i: Inputs) -> Signal:
    text = readme_text(i.readme, i.name)
    length = 0.0 if len(text) < README_MIN else min(1.0, len(text) / README_FULL)
    headings = len(_HEADING.findall(i.readme or ""))
    code = bool(_CODE.search(i.readme or ""))
    structure = 1.0 if headings >= 2 or (headings >= 1 and code) else 0.0
    value = 0.6 * length + 0.4 * structure
    return _signal(
        "readme",
        value,
        f"{len(text)} characters of README text beyond the title, {headings} headings, "
        + ("an example block" if code else "no example block"),
    )


def license_(i: Inputs) -> Signal:
    text = (i.license or "").strip()
    ok = bool(text) and text.upper() != "UNKNOWN"
    return _signal("license", float(ok), f"license: {text[:60]}" if ok else "no license declared")


def tests(i: Inputs) -> Signal:
    if not i.has_sdist:
        return _signal("tests", 0.0, "no sdist in the latest release: nothing shows its tests")
    if i.sdist_tests:
        return _signal("tests", 1.0, "the sdist ships tests (tests/ or test_*.py)")
    return _signal("tests", 0.0, "the sdist holds no tests/ folder or test_*.py file")


def compatibility(i: Inputs) -> Signal:
    value = 0.5 * i.admits_pysetl_latest + 0.5 * i.admits_supported_python
    pysetl = (
        f"works with PySetl {i.pysetl_latest}"
        if i.admits_pysetl_latest
        else f"excludes the latest PySetl ({i.pysetl_latest})"
    )
    python = (
        "admits a supported Python"
        if i.admits_supported_python
        else "admits no Python version the hub supports"
    )
    return _signal("compatibility", value, f"{pysetl}; {python}")


def recent(i: Inputs) -> Signal:
    if i.latest_release_at is None:
        return _signal("recent", 0.0, "no release")
    days = max(0.0, (i.now - i.latest_release_at).total_seconds() / 86400)
    if days <= RECENT_FULL_DAYS:
        value = 1.0
    else:
        value = 1 - (days - RECENT_FULL_DAYS) / (RECENT_NONE_DAYS - RECENT_FULL_DAYS)
    return _signal("recent", value, f"latest release {int(days)} days ago")


def yanked(i: Inputs) -> Signal:
    if i.releases == 0:
        return _signal("yanked", 0.0, "no release")
    return _signal(
        "yanked", 1 - i.yanked / i.releases, f"{i.yanked} of {i.releases} releases yanked"
    )


def advisories(i: Inputs) -> Signal:
    if i.open_advisories == 0:
        return _signal("advisories", 1.0, "no open security advisory")
    return _signal("advisories", 0.0, f"{i.open_advisories} open security advisories")


def documented(i: Inputs) -> Signal:
    if not i.documented:
        return _signal("documented", 0.0, "no entry point to document")
    done = sum(i.documented.values())
    return _signal(
        "documented",
        done / len(i.documented),
        f"{done} of {len(i.documented)} entry points name an object with a docstring",
    )


SIGNALS = (
    provenance,
    readme,
    license_,
    tests,
    compatibility,
    recent,
    yanked,
    advisories,
    documented,
)


def score(i: Inputs) -> Score:
    signals = [signal(i) for signal in SIGNALS]
    return Score(round(sum(s.points for s in signals)), signals)
