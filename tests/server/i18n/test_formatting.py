"""Dates, relative times, numbers and sizes, written as a reader of each language expects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pysetl_hub_server.i18n import formatting

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_relative_times_are_in_the_readers_words() -> None:
    three_days = NOW - timedelta(days=3)
    assert formatting.ago(three_days, "en", now=NOW) == "3 days ago"
    assert formatting.ago(three_days, "es", now=NOW) == "hace 3 días"
    assert "3" in formatting.ago(three_days, "ar", now=NOW) or "٣" in formatting.ago(
        three_days, "ar", now=NOW
    )
    assert formatting.ago(NOW - timedelta(days=3), "ar", now=NOW) != formatting.ago(
        three_days, "en", now=NOW
    )


def test_dates_and_numbers_follow_the_locale() -> None:
    day = datetime(2026, 1, 31, tzinfo=UTC)
    assert formatting.date(day, "en") == "Jan 31, 2026"
    assert formatting.date(day, "es") == "31 ene 2026"
    assert formatting.number(1234567, "en") == "1,234,567"
    assert formatting.number(1234567, "es") == "1.234.567"


def test_sizes_use_decimal_units_and_the_locales_digits() -> None:
    assert formatting.size(999, "en") == "999\u00a0B"
    assert formatting.size(1_500, "en") == "1.5\u00a0kB"
    assert formatting.size(1_500, "es") == "1,5\u00a0kB"
    assert formatting.size(2_300_000, "en") == "2.3\u00a0MB"
