"""Dates, relative times, numbers and sizes written the way a reader of the locale expects."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

from babel import Locale
from babel.dates import format_date, format_datetime, format_timedelta
from babel.numbers import format_decimal


@cache
def _locale(language: str) -> Locale:
    """Parsed once: Babel would otherwise load the locale's data on every call."""
    return Locale.parse(language)


def date(value: datetime, language: str) -> str:
    return format_date(value, format="medium", locale=_locale(language))


def timestamp(value: datetime, language: str) -> str:
    """Full date and time in UTC, for a `title` beside a relative time."""
    return format_datetime(
        value.astimezone(UTC), format="medium", tzinfo=UTC, locale=_locale(language)
    )


def ago(value: datetime, language: str, now: datetime | None = None) -> str:
    """ "3 days ago": the delta from now, in the locale's words."""
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    delta = moment - (now or datetime.now(UTC))
    return format_timedelta(delta, add_direction=True, threshold=1.0, locale=_locale(language))


def number(value: int | float, language: str) -> str:
    return format_decimal(value, locale=_locale(language))


_UNITS = ("B", "kB", "MB", "GB", "TB")


def size(value: int, language: str) -> str:
    """A byte count in decimal units (1 kB = 1000 B, as pip and PyPI show), digits localized."""
    amount = float(value)
    unit = 0
    while amount >= 1000 and unit < len(_UNITS) - 1:
        amount /= 1000
        unit += 1
    pattern = "#,##0" if unit == 0 else "#,##0.0"
    return f"{format_decimal(amount, format=pattern, locale=_locale(language))}\u00a0{_UNITS[unit]}"
