"""Named fault points for crash tests of the publish path.

A point does nothing unless a test arms it on the running app (`hub.faults.arm(...)`);
there is no HTTP or environment switch, so production cannot trip one.
"""

from __future__ import annotations


class InjectedFault(RuntimeError):
    """Raised at an armed fault point, standing in for a crash at that step."""


class Faults:
    POINTS = frozenset(
        {"publish.after_blob_write", "publish.before_commit", "publish.after_commit"}
    )

    def __init__(self) -> None:
        self._armed: dict[str, int] = {}

    def arm(self, point: str, times: int = 1) -> None:
        if point not in self.POINTS:
            raise ValueError(f"unknown fault point {point!r}; known: {sorted(self.POINTS)}")
        self._armed[point] = times

    def check(self, point: str) -> None:
        remaining = self._armed.get(point, 0)
        if remaining > 0:
            self._armed[point] = remaining - 1
            raise InjectedFault(f"injected fault at {point}")
