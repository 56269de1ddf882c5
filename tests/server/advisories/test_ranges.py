"""The range rules of an advisory, one by one, without a server: every refusal is the 400 of its
rule and names the versions at fault; every edge the OSV schema allows is accepted. (The API
tests in test_api.py show the same gate end to end; these pin each boundary.)"""

from __future__ import annotations

import pytest
from packaging.version import Version

from pysetl_hub_schemas.osv import AdvisoryAffected, AdvisoryEvent, AdvisoryRange
from pysetl_hub_server.advisories.ranges import (
    affects,
    check_affected,
    check_events,
    fixed_in,
    parse_version,
)
from pysetl_hub_server.errors import BadRequest


def ev(**kw: str) -> AdvisoryEvent:
    return AdvisoryEvent(**kw)


def refused(events: list[AdvisoryEvent]) -> BadRequest:
    with pytest.raises(BadRequest) as caught:
        check_events(events)
    return caught.value


def test_well_formed_ranges_come_back_sorted_by_version() -> None:
    events = [ev(fixed="1.10"), ev(introduced="1.9"), ev(last_affected="0.5"), ev(introduced="0")]
    assert check_events(events) == [
        {"introduced": "0"},
        {"last_affected": "0.5"},
        {"introduced": "1.9"},
        {"fixed": "1.10"},  # 1.10 after 1.9: versions, not strings
    ]


def test_the_edges_the_schema_allows() -> None:
    assert check_events([ev(introduced="0"), ev(fixed="0.0.1")])  # "0": every version
    assert check_events([ev(introduced="0"), ev(last_affected="0.0.1")])
    # last_affected is inclusive: the one affected version may be the introducing one.
    assert check_events([ev(introduced="1.2"), ev(last_affected="1.2")])
    assert check_events([ev(introduced="1.2")])  # still open: every later version


def test_no_event_is_refused() -> None:
    error = refused([])
    assert error.code == "advisory.range" and "at least an introduced event" in error.detail


def test_two_openings_without_a_fix_name_both() -> None:
    error = refused([ev(introduced="1.0"), ev(introduced="2.0"), ev(fixed="3.0")])
    assert error.code == "advisory.range"
    assert "two introduced events (1.0, 2.0) without a fix" in error.detail


@pytest.mark.parametrize("kind", ["fixed", "last_affected"])
def test_a_close_before_any_opening_names_its_kind_and_version(kind: str) -> None:
    error = refused([ev(**{kind: "1.0"}), ev(introduced="2.0")])
    assert error.code == "advisory.range"
    assert f"{kind} 1.0 closes no interval" in error.detail


def test_a_close_must_come_after_its_opening() -> None:
    error = refused([ev(introduced="1.2"), ev(fixed="1.2")])  # an empty interval
    assert error.code == "advisory.range"
    assert "fixed 1.2 is not after introduced 1.2" in error.detail
    for close in (ev(fixed="1.1"), ev(last_affected="1.1")):  # below: sorted before it
        error = refused([ev(introduced="1.2"), close])
        assert error.code == "advisory.range" and "1.1 closes no interval" in error.detail
    assert check_events([ev(introduced="1.2"), ev(fixed="1.2.1")])


def test_an_event_with_two_kinds_or_none_is_refused() -> None:
    for event in (ev(introduced="1.0", fixed="2.0"), ev()):
        assert refused([event]).code == "advisory.range"


@pytest.mark.parametrize("kind", ["introduced", "fixed", "last_affected"])
def test_a_version_that_is_not_pep_440_is_named_with_its_place(kind: str) -> None:
    events = [ev(introduced="0"), ev(**{kind: "one.two"})]
    if kind == "introduced":
        events = [ev(introduced="one.two"), ev(fixed="9")]
    error = refused(events)
    assert error.code == "advisory.version"
    assert f"{kind}: 'one.two' is not a PEP 440 version" in error.detail


def test_a_huge_version_is_refused_before_it_is_parsed() -> None:
    with pytest.raises(BadRequest) as caught:
        parse_version("1" * 5000, "versions")
    assert caught.value.code == "advisory.version"
    assert caught.value.detail.startswith("versions: ")


def test_an_affected_entry_needs_ranges_or_versions() -> None:
    with pytest.raises(BadRequest) as caught:
        check_affected(AdvisoryAffected(ranges=[], versions=[]))
    assert caught.value.code == "advisory.range"
    assert "lists no ranges and no versions" in caught.value.detail


def test_which_versions_a_stored_range_affects() -> None:
    stored = [
        check_affected(
            AdvisoryAffected(
                ranges=[
                    AdvisoryRange(events=[ev(introduced="1.0"), ev(fixed="1.2")]),
                    AdvisoryRange(events=[ev(introduced="2.0"), ev(last_affected="2.1")]),
                ],
                versions=["0.9"],
            )
        )
    ]
    inside = ["0.9", "1.0", "1.1.9", "2.0", "2.1"]
    outside = ["0.8", "0.9.1", "1.2", "1.3", "2.1.1", "3.0"]
    assert [v for v in inside + outside if affects(stored, Version(v))] == inside
    assert fixed_in(stored) == ["1.2"]
