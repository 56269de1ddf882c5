"""The component page's reading of stored OSV ranges (web/advisories.py)."""

from __future__ import annotations

from pysetl_hub_server.web.advisories import Interval, intervals


def test_ranges_read_as_intervals_with_open_and_inclusive_ends() -> None:
    stored = [
        {
            "ranges": [
                {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2"}]},
                {
                    "type": "ECOSYSTEM",
                    "events": [
                        {"introduced": "2.0"},
                        {"last_affected": "2.3"},
                        {"introduced": "3.0"},
                    ],
                },
            ],
            "versions": ["1.5"],
        }
    ]
    assert intervals(stored) == [
        Interval(None, "1.2"),
        Interval("2.0", "2.3", inclusive=True),
        Interval("3.0", None),
    ]
    assert intervals([{"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]) == [
        Interval(None, None)
    ]
