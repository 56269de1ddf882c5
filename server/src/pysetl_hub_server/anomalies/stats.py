"""The statistics behind the flags, pure: a download spike against the median absolute
deviation of a component's own history, and the edit distance between two names."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median


@dataclass(frozen=True, slots=True)
class Spike:
    count: int
    median: float
    mad: float
    threshold: float


def spike(
    history: list[int], latest: int, *, k: float, min_days: int, min_count: int
) -> Spike | None:
    """A spike when `latest` > median + k * MAD of `history` (the days before it, zeros
    included). MAD is floored at 1 download, so a flat history does not make every extra
    download a spike; too short a history, or too few downloads, is never a spike."""
    if len(history) < max(1, min_days) or latest < min_count:
        return None
    mid = float(median(history))
    mad = max(1.0, float(median(abs(x - mid) for x in history)))
    threshold = mid + k * mad
    if latest > threshold:
        return Spike(latest, mid, mad, threshold)
    return None


def damerau_levenshtein(a: str, b: str, cap: int = 3) -> int:
    """Edits (insert, delete, substitute, swap two neighbours) from `a` to `b` (optimal string
    alignment); anything past `cap` is answered `cap + 1` without finishing the table."""
    if abs(len(a) - len(b)) > cap:
        return cap + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], prev2[j - 2] + 1)
        if min(row) > cap:
            return cap + 1
        prev2, prev = prev, row
    return min(prev[len(b)], cap + 1)
