"""Finished search answers, kept by canonical query while the index they were read from is
current.

The same searches come again and again (search as you type, a popular word), and an answer is
derived data of the index: the first request renders it, the next ones (through the hot path,
`hotpath.py`) get the same bytes until the engine's version token moves. The token is read
before the search runs, so an answer that raced with a write is kept under the old token and
never matches again. Engines that cannot tell when their index changed (Meilisearch) give no
token, and nothing is kept.

Memory is bounded by bytes (BUDGET, apart from the page and file budgets and reported with
them in the metrics), and only answers of ordinary pages are kept (no `explain`, at most
KEPT_PER_PAGE hits): a client asking for big or unusual pages cannot push out the common
ones. The key is the query string reduced to the parameters the search reads, in a fixed
order, so junk parameters (`&x=1`, `&x=2`) do not multiply entries.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from urllib.parse import parse_qsl, urlencode

from pysetl_hub_server.answers import ANSWER_OVERHEAD, Answer
from pysetl_hub_server.lru import ByteLRU, CacheStats

BUDGET = 32 * 1024 * 1024  # per process: about 3,000 answers of 20 hits
KEPT_PER_PAGE = 20  # the default page size: bigger pages are answered, not kept
# An answer's own overhead, plus its key (a query string) and its slot in the LRU's dict.
OVERHEAD = ANSWER_OVERHEAD + 256
# The parameters `GET /api/v1/search` reads (controllers.py); only `keyword` may repeat.
PARAMETERS = frozenset(
    {
        "q",
        "kind",
        "pysetl",
        "python",
        "spark",
        "license",
        "keyword",
        "verified",
        "min_quality",
        "include_yanked",
        "sort",
        "explain",
        "page",
        "per_page",
    }
)
REPEATED = frozenset({"keyword"})


def canonical(query_string: bytes) -> bytes | None:
    """The key of a query string: its search parameters decoded as the framework decodes them
    and sorted by name (a repeated `keyword` keeps its order); None (nothing kept) when two
    spellings could not be told apart safely: non-ASCII bytes, or a single-valued parameter
    given twice."""
    try:
        text = query_string.decode("ascii")
    except UnicodeDecodeError:
        return None
    pairs = [
        (k, v)
        for k, v in parse_qsl(text, keep_blank_values=True, errors="replace")
        if k in PARAMETERS
    ]
    names = [k for k, _v in pairs if k not in REPEATED]
    if len(names) != len(set(names)):
        return None
    return urlencode(sorted(pairs, key=lambda kv: kv[0])).encode()


def _size(entry: tuple[Hashable, Answer]) -> int:
    return len(entry[1].body) + OVERHEAD


class SearchAnswers:
    def __init__(self, token: Callable[[], Hashable | None], budget: int = BUDGET) -> None:
        self._token = token
        self._entries: ByteLRU[bytes, tuple[Hashable, Answer]] = ByteLRU(budget, _size)

    def token(self) -> Hashable | None:
        """The engine's current version token (read before a search; None: keep nothing)."""
        return self._token()

    def peek(self, query_string: bytes) -> Answer | None:
        """The kept answer of this query, if the index has not changed since."""
        key = canonical(query_string)
        found = None if key is None else self._entries.get(key)
        if key is not None and found is not None and found[0] != self._token():
            self._entries.pop(key)  # read at an older index: never matches again
            found = None
        return None if found is None else found[1]

    def put(self, query_string: bytes, token: Hashable | None, answer: Answer) -> None:
        key = canonical(query_string)
        if token is not None and key is not None:
            self._entries.put(key, (token, answer))

    def stats(self) -> CacheStats:
        """Hits, entries and bytes against the budget, for the metrics (sampler.py)."""
        return self._entries.stats()

    def __len__(self) -> int:
        return len(self._entries)
