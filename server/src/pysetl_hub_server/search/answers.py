"""Finished search answers, kept by query string while the index they were read from is current.

The same searches come again and again (search as you type, a popular word), and an answer is
derived data of the index: the first request renders it, the next ones (through the hot path,
`hotpath.py`) get the same bytes until the engine's version token moves. The token is read
before the search runs, so an answer that raced with a write is kept under the old token and
never matches again. Engines that cannot tell when their index changed (Meilisearch) give no
token, and nothing is kept.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable

from pysetl_hub_server.answers import Answer

KEPT = 4096  # answers kept per process, the least recently asked dropped first


class SearchAnswers:
    def __init__(self, token: Callable[[], Hashable | None], kept: int = KEPT) -> None:
        self._token = token
        self._kept = kept
        self._entries: OrderedDict[bytes, tuple[Hashable, Answer]] = OrderedDict()

    def token(self) -> Hashable | None:
        """The engine's current version token (read before a search; None: keep nothing)."""
        return self._token()

    def peek(self, query_string: bytes) -> Answer | None:
        """The kept answer of this exact query string, if the index has not changed since."""
        found = self._entries.get(query_string)
        if found is None:
            return None
        token = self._token()
        if token is None or found[0] != token:
            return None
        self._entries.move_to_end(query_string)
        return found[1]

    def put(self, query_string: bytes, token: Hashable | None, answer: Answer) -> None:
        if token is None:
            return
        self._entries[query_string] = (token, answer)
        self._entries.move_to_end(query_string)
        while len(self._entries) > self._kept:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
