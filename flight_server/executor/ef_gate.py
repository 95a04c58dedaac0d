"""Per-index ef for concurrent HNSW searches: usearch reads ef from the index, not from the call.

`Index.search` has no ef argument (usearch 2.26); the index's `expansion_search` applies to every
search running on it. Setting it per query raced: a query could search at another query's ef. A
gate lets searches that need the same ef share the index (the common case: one collection's
ef_search), and makes a search that needs a different ef wait until those have finished. While
it waits, new searches at the old ef queue behind it, so neither side starves.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

from usearch.index import Index


class EfGate:
    """Admits searches to one index while they agree on its `expansion_search`."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._ef = -1
        self._active = 0
        self._draining = False  # a search at another ef is waiting: admit no more at this one

    @contextmanager
    def search_at(self, index: Index, ef: int) -> Iterator[None]:
        """Hold the index at `ef` for the duration of the block."""
        with self._cond:
            while self._active and (self._ef != ef or self._draining):
                self._draining = self._draining or self._ef != ef
                self._cond.wait()
            if self._ef != ef:
                index.expansion_search = ef  # type: ignore[misc]  # settable; stub says read-only
                self._ef = ef
            self._active += 1
        try:
            yield
        finally:
            with self._cond:
                self._active -= 1
                if not self._active:
                    self._draining = False
                    self._cond.notify_all()


_GATES: weakref.WeakKeyDictionary[Index, EfGate] = weakref.WeakKeyDictionary()


def gate_of(index: Index) -> EfGate:
    """The gate of `index` (one per index object, dropped with it)."""
    gate = _GATES.get(index)
    return gate if gate is not None else _GATES.setdefault(index, EfGate())
