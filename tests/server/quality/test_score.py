"""The quality score, pure: each signal both ways, the weights, and the total."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from pysetl_hub_server.quality import score as q

NOW = datetime(2026, 6, 1, tzinfo=UTC)
BARE = q.Inputs(name="csv-dedupe", now=NOW)
README = """# csv-dedupe

A PySetl factory that reads a CSV file and drops the duplicate rows, keeping the first of each.

## Install

```
pip install csv-dedupe
```

## Use

Add `CsvDedupe` to a pipeline and give it the path of the file and the columns that make a row
unique. Rows are compared on those columns only; the rest of the row comes from the first.
""" + ("It works on Spark 3.4 and later. " * 40)
FULL = replace(
    BARE,
    attested=True,
    trusted_publisher=True,
    readme=README,
    license="Apache-2.0",
    has_sdist=True,
    sdist_tests=True,
    pysetl_latest="1.2.1",
    admits_pysetl_latest=True,
    admits_supported_python=True,
    latest_release_at=NOW - timedelta(days=3),
    releases=4,
    yanked=0,
    open_advisories=0,
    documented={"CsvDedupe": True},
)


def test_weights_add_up_to_100_and_a_full_component_scores_100() -> None:
    assert sum(q.WEIGHTS.values()) == 100
    result = q.score(FULL)
    assert result.total == 100
    assert [s.key for s in result.signals] == list(q.WEIGHTS)
    assert all(s.value == 1.0 and s.weight == q.WEIGHTS[s.key] for s in result.signals)


def test_nothing_scores_nothing_but_the_absence_of_advisories() -> None:
    result = q.score(BARE)
    assert {s.key: s.value for s in result.signals if s.value} == {"advisories": 1.0}
    assert result.total == q.WEIGHTS["advisories"]


def test_provenance() -> None:
    assert q.provenance(FULL).value == 1.0
    assert q.provenance(replace(FULL, attested=False)).value == 0.5
    none = q.provenance(replace(FULL, attested=False, trusted_publisher=False))
    assert none.value == 0.0 and "no trusted publisher" in none.explanation


def test_readme_of_substance_not_just_the_name() -> None:
    assert q.readme(FULL).value == 1.0
    title_only = q.readme(replace(FULL, readme="# csv-dedupe\n\ncsv_dedupe\n"))
    assert title_only.value == 0.0 and title_only.explanation.startswith("0 characters")
    # long but shapeless: the length part only
    flat = q.readme(replace(FULL, readme="word " * 400))
    assert flat.value == 0.6


def test_license() -> None:
    assert q.license_(FULL).value == 1.0
    assert q.license_(replace(FULL, license=None)).value == 0.0
    assert q.license_(replace(FULL, license="UNKNOWN")).value == 0.0


def test_tests_in_the_sdist() -> None:
    assert q.tests(FULL).value == 1.0
    assert q.tests(replace(FULL, sdist_tests=False)).value == 0.0
    no_sdist = q.tests(replace(FULL, has_sdist=False))
    assert no_sdist.value == 0.0 and "no sdist" in no_sdist.explanation


def test_compatibility_with_the_latest_pysetl_and_a_supported_python() -> None:
    assert q.compatibility(FULL).value == 1.0
    old = q.compatibility(replace(FULL, admits_pysetl_latest=False))
    assert old.value == 0.5 and "1.2.1" in old.explanation
    assert q.compatibility(replace(FULL, admits_supported_python=False)).value == 0.5


def test_a_recent_release() -> None:
    assert q.recent(FULL).value == 1.0
    year = q.recent(replace(FULL, latest_release_at=NOW - timedelta(days=455)))
    assert year.value == 0.5
    assert q.recent(replace(FULL, latest_release_at=NOW - timedelta(days=800))).value == 0.0
    assert q.recent(replace(FULL, latest_release_at=None)).value == 0.0


def test_yanked_ratio() -> None:
    assert q.yanked(FULL).value == 1.0
    half = q.yanked(replace(FULL, yanked=2))
    assert half.value == 0.5 and half.explanation == "2 of 4 releases yanked"


def test_open_advisories() -> None:
    assert q.advisories(FULL).value == 1.0
    assert q.advisories(replace(FULL, open_advisories=1)).value == 0.0


def test_documented_entry_points() -> None:
    assert q.documented(FULL).value == 1.0
    some = q.documented(replace(FULL, documented={"A": True, "B": False}))
    assert some.value == 0.5 and some.explanation.startswith("1 of 2")
    assert q.documented(replace(FULL, documented={})).value == 0.0


def test_the_total_is_the_rounded_sum_of_points() -> None:
    partial = replace(FULL, license=None, yanked=1, open_advisories=3)
    result = q.score(partial)
    assert result.total == round(100 - 10 - 10 - 5 * 0.25) == 79
    assert result.total == round(sum(s.points for s in result.signals))
