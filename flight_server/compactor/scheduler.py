"""The compactor: one background thread that folds log tails into new index versions.

A collection is compacted when its tail holds `compaction_tail_records` records or its oldest
unindexed write is `compaction_tail_seconds` old, or on demand. Each run: build the next version
from a prefix of the tail, write it under a fresh name (fsync + rename), register it in the catalog
with a compare-and-set on the previous version, switch readers to it, purge the covered log
segments, delete the previous version's files. A crash at any step leaves the previous version
serving: an unregistered folder is garbage collected on the next open, and the log is purged only
after registration. `on_step(name)` is called after each step (tests crash the process there),
and `on_step("progress")` between the C++ calls of a build.

`stop()` is prompt: a running build checks the stop flag between its C++ calls (each usearch add
is a bounded chunk) and is abandoned with ClosedError; the tail it would have folded stays in the
log for the next run. A build is never abandoned once its version is written.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pyarrow as pa
from usearch.index import Index

from ..catalog.base import Catalog, VersionRecord
from ..config import Settings
from ..errors import ClosedError, InternalError, MemoryBudgetError
from ..schema import DOCUMENT
from ..versions.store import Version, VersionStore
from ..wal.base import CollectionLog, LogEntry
from .builder import (
    build_records,
    check_index_memory,
    full_index,
    new_index,
    next_doc_grams,
    update_index,
)

log = logging.getLogger(__name__)
STEPS = ("built", "written", "registered", "installed", "purged", "cleaned")


class TailState(Protocol):
    """What the compactor needs of a collection's read state (the executor's CollectionState)."""

    @property
    def version(self) -> Version:
        """The version reads are served from."""
        ...

    def pending(self, limit_records: int | None = None) -> list[LogEntry]:
        """Visible tail entries in order; with a limit, a prefix of about that many records."""
        ...

    def tail_size(self) -> tuple[int, float]:
        """(records in the tail, seconds since the oldest unindexed write)."""
        ...

    def install(self, version: Version) -> None:
        """Serve from a newer version; drop the tail entries it covers."""
        ...


class Target(Protocol):
    """What the compactor needs of an open collection."""

    collection_id: str
    log: CollectionLog
    compact_lock: threading.Lock

    @property
    def state(self) -> TailState:
        """The collection's read state, which the compactor installs new versions in."""
        ...

    def index_settings(self) -> tuple[int | None, dict[str, Any]]:
        """(dimension, configuration) of the collection."""
        ...


@dataclass
class Compactor:
    """Schedules and runs compactions; `run_once` is also the on-demand entry point."""

    catalog: Catalog
    store: VersionStore
    settings: Settings
    targets: Callable[[], Sequence[Target]]
    # documents -> full-text postings (executor/fts_index.py): the reader's tokenizer decides
    # what a term is, so the engine hands the compactor the reader's own builder
    build_fts: Callable[[pa.ChunkedArray], pa.Table]
    on_step: Callable[[str], None] = lambda step: None
    _live: dict[str, tuple[str, Index, int]] = field(default_factory=dict)
    _wake: threading.Condition = field(default_factory=threading.Condition)
    _stopping: bool = False
    _thread: threading.Thread | None = None
    last_error: BaseException | None = None

    def start(self) -> None:
        """Start the background thread (idempotent)."""
        if self._thread is None and self.settings.compaction_enabled:
            self._thread = threading.Thread(
                target=self._loop, name="fletchdb-compactor", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop the background thread; a running build is abandoned at its next check."""
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def nudge(self) -> None:
        """Tell the thread that a tail grew."""
        with self._wake:
            self._wake.notify_all()

    def forget(self, collection_id: str) -> None:
        """Drop the cached mutable index of a deleted collection."""
        self._live.pop(collection_id, None)

    def _loop(self) -> None:
        age = self.settings.compaction_tail_seconds
        while True:
            with self._wake:
                if self._stopping:
                    return
                self._wake.wait(timeout=min(age, 5.0) if age > 0 else 5.0)
                if self._stopping:
                    return
            for target in self.targets():
                records, seconds = target.state.tail_size()
                due = records >= self.settings.compaction_tail_records or (
                    records and seconds >= age
                )
                if not due:
                    continue
                try:
                    while self.run_once(target) and not self._stopping:
                        if target.state.tail_size()[0] < self.settings.compaction_tail_records:
                            break
                except MemoryBudgetError as exc:  # refused before building: no traceback
                    self.last_error = exc
                    log.warning("compaction of %s refused: %s", target.collection_id, exc)
                except Exception as exc:  # keep serving from the previous version
                    if self._stopping:  # abandoned by stop(), or closed under it: not a failure
                        return
                    self.last_error = exc
                    log.exception("compaction of %s failed", target.collection_id)
                if self._stopping:
                    return

    def run_once(self, target: Target) -> bool:
        """Fold one prefix of the tail into a new version; False when the tail was empty."""
        with target.compact_lock:
            state = target.state
            version = state.version
            entries = state.pending(self._fold_limit(version.num_rows))
            if not entries:
                return False
            dimension, configuration = target.index_settings()
            vectors = version.num_rows + sum(e.batch.num_rows for e in entries)  # at most
            check_index_memory(vectors, dimension, configuration, self.settings)
            check = self._progress
            check()
            records, removed, tail = build_records(version, entries)
            check()
            index, holes = self._mutable_index(
                target.collection_id, version, dimension, configuration
            )
            if index is not None and dimension is not None:
                # usearch's remove() leaves the graph worse connected (measured: a true neighbour
                # missed in 1-2% of searches); past a fraction of removals, build afresh
                limit = self.settings.compaction_rebuild_fraction * max(len(index), 1)
                if holes + len(removed) > limit:
                    index, holes = full_index(records, dimension, configuration, check), 0
                else:
                    holes += update_index(index, version, removed, tail, check)
            self.on_step("built")
            check()
            grams = next_doc_grams(version, records, removed, tail)
            check()
            fts = self.build_fts(records[DOCUMENT])
            check()
            name = self.store.write(target.collection_id, records, index, grams, fts)
            self.on_step("written")
            new = VersionRecord(
                target.collection_id, version.number + 1, name, entries[-1].seq, records.num_rows
            )
            # the written copy is served mmap'ed: free the built one before loading it
            del records, tail, grams, fts
            self.catalog.register_version(new, expected_version=version.number)
            self.on_step("registered")
            state.install(self.store.load(target.collection_id, new))
            self.on_step("installed")
            target.log.purge(new.log_offset)
            self.on_step("purged")
            if version.record is not None:
                self.store.delete(target.collection_id, version.record.path)
            if index is not None:
                self._live[target.collection_id] = (name, index, holes)
            self.on_step("cleaned")
            return True

    def _progress(self) -> None:
        """Between two C++ calls of a build: abandon it if stop() was called, else report progress.

        Abandoning loses nothing: the cached index was popped, and the tail stays in the log."""
        if self._stopping:
            raise ClosedError(
                "the compactor is stopping; the log tail keeps what it would have folded"
            )
        self.on_step("progress")

    def _fold_limit(self, indexed: int) -> int:
        """Records one run may fold: at least compaction_max_records, more as the version grows."""
        growth = int(self.settings.compaction_growth_fraction * indexed)
        return max(int(self.settings.compaction_max_records), growth)

    def _mutable_index(
        self, collection_id: str, version: Any, dimension: int | None, configuration: dict[str, Any]
    ) -> tuple[Index | None, int]:
        """(a mutable copy of the version's index, removed nodes in its graph)."""
        if dimension is None:
            return None, 0
        cached = self._live.pop(collection_id, None)  # re-cached only after a successful run
        if cached is not None and version.record is not None and cached[0] == version.record.path:
            return cached[1], cached[2]
        if version.record is not None and version.index is not None:
            index = Index.restore(self.store.index_path(collection_id, version.record.path))
            if index is None:
                raise InternalError(
                    f"the index file of version {version.record.path} is unreadable"
                )
            return index, max(index.capacity - len(index), 0)  # a restored index has no spare slots
        return new_index(dimension, configuration), 0
