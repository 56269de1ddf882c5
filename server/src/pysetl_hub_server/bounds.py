"""The documented bound of every client-chosen size: past it, a 400 (or 404) problem, never an
unbounded query, a numeric overflow in the database, or Python's own int-conversion limit."""

from __future__ import annotations

from typing import Final

MAX_VERSION: Final = 64  # characters of a PEP 440 version (schemas.Version says the same)
MAX_FILENAME: Final = 255  # characters of a distribution filename (the database column)
MAX_PAGE: Final = 1000  # of any paged listing; 1000 pages of 100 is further than anyone reads
MAX_PER_PAGE: Final = 100
MAX_KEYWORD_FILTERS: Final = 20
MAX_FILTER_TEXT: Final = 200  # characters of a free-text filter such as license=
MAX_DAYS: Final = 366  # days of a download series (a year, leap day included)
MAX_ID: Final = 2**63 - 1  # of a row id or serial (a 64-bit column): past it, no row, not a 500
