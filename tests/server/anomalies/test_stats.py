"""The statistics behind the flags, pure: MAD spikes and Damerau-Levenshtein distance."""

from __future__ import annotations

import pytest

from pysetl_hub_server.anomalies.stats import damerau_levenshtein, spike

STEADY = [10, 12, 9, 11, 10, 13, 8, 10, 11, 9, 12, 10, 10, 11]  # median 10, MAD 1


def test_a_day_far_above_the_baseline_is_a_spike_with_its_evidence() -> None:
    found = spike(STEADY, 200, k=10, min_days=14, min_count=100)
    assert found is not None
    assert (found.median, found.mad, found.threshold) == (10.0, 1.0, 20.0)


def test_a_normal_day_is_not_a_spike() -> None:
    assert spike(STEADY, 19, k=10, min_days=14, min_count=0) is None
    assert spike(STEADY, 20, k=10, min_days=14, min_count=0) is None  # strictly above


def test_too_short_a_history_or_too_few_downloads_is_never_a_spike() -> None:
    assert spike(STEADY[:13], 500, k=10, min_days=14, min_count=100) is None
    assert spike(STEADY, 99, k=10, min_days=14, min_count=100) is None
    assert spike(STEADY, 100, k=10, min_days=14, min_count=100) is not None


def test_mad_is_robust_to_one_earlier_outlier_and_floored_on_a_flat_history() -> None:
    # one big earlier day moves the mean and the standard deviation, not the median or MAD
    found = spike([*STEADY, 5000], 200, k=10, min_days=14, min_count=0)
    assert found is not None and found.median == 10.0
    flat = spike([0] * 20, 11, k=10, min_days=14, min_count=0)
    assert flat is not None and flat.mad == 1.0  # 0 floored: 10 downloads is not a spike
    assert spike([0] * 20, 10, k=10, min_days=14, min_count=0) is None


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("csv-dedupe", "csv-dedupe", 0),
        ("csv-dedupe", "csv-dedup", 1),  # deletion
        ("csv-dedupe", "csv-dedupee", 1),  # insertion
        ("csv-dedupe", "csv-dedope", 1),  # substitution
        ("csv-dedupe", "csv-deudpe", 1),  # neighbours swapped: one edit, not two
        ("csv-dedupe", "cvs-deudpe", 2),
        ("requests", "urllib3", 4),  # past the cap: cap + 1
    ],
)
def test_damerau_levenshtein(a: str, b: str, distance: int) -> None:
    assert damerau_levenshtein(a, b, cap=3) == distance
    assert damerau_levenshtein(b, a, cap=3) == distance
