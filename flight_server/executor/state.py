"""A collection's read state: the current version, the durable log tail, and cached snapshots.

Writers hand each durable entry to `appended`; entries become visible strictly in seq order, and
a writer is acknowledged only once its entry is visible, so every read that starts after an
acknowledgement sees that write. A `Snapshot` is immutable: reads use it without locks while
writes and compactions move on.
"""

from __future__ import annotations

import bisect
import threading
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa

from ..schema import EMBEDDING, LABEL, one_array
from ..versions.materialize import Overlay, apply_entries, empty_overlay
from ..versions.store import Version, _numpy, with_positions
from ..wal.base import LogEntry


@dataclass
class Snapshot:
    """One consistent view: a version and the log tail applied on it."""

    version: Version
    overlay: Overlay
    _tail_embeddings: np.ndarray | None = field(default=None, repr=False)
    _tail_scan: pa.Table | None = field(default=None, repr=False)
    cache: dict[str, Any] = field(default_factory=dict, repr=False)  # derived views, built once

    @property
    def tail(self) -> pa.Table | None:
        """Live records that exist only in the log tail (new or changed since the version)."""
        return self.overlay.tail

    @property
    def dead(self) -> np.ndarray:
        """Per version row: True where the tail deleted or superseded it."""
        return self.overlay.dead

    @cached_property
    def dead_count(self) -> int:
        """Version rows the tail deleted or superseded (counted once per snapshot)."""
        return int(np.count_nonzero(self.dead))

    def count(self) -> int:
        """Live records."""
        return self.version.num_rows - self.dead_count + self.overlay.tail_rows

    def tail_embeddings(self) -> np.ndarray:
        """Tail embeddings as one contiguous (n, dim) float32 array."""
        if self._tail_embeddings is None:
            tail = self.tail
            if tail is None:
                self._tail_embeddings = np.empty((0, 0), dtype=np.float32)
            else:
                col = one_array(tail[EMBEDDING])
                flat = _numpy(col.flatten(), np.float32)
                self._tail_embeddings = np.ascontiguousarray(flat.reshape(len(col), -1))
        return self._tail_embeddings

    def tail_labels(self) -> np.ndarray:
        """Labels of the tail records."""
        return np.empty(0, np.uint64) if self.tail is None else _numpy(self.tail[LABEL], np.uint64)

    def tail_scan(self) -> pa.Table | None:
        """The tail with a `_pos` column, for SQL filters."""
        if self._tail_scan is None and self.tail is not None:
            self._tail_scan = with_positions(self.tail)
        return self._tail_scan


class CollectionState:
    """Read state of one collection, shared by writers, readers and the compactor."""

    def __init__(self, version: Version, entries: list[LogEntry]) -> None:
        self._cond = threading.Condition()
        self._version = version
        self._pending: list[LogEntry] = [e for e in entries if e.seq > version.log_offset]
        self._pending_records = sum(e.batch.num_rows for e in self._pending)
        self._visible = self._pending[-1].seq if self._pending else version.log_offset
        self._first_unindexed_at: float | None = time.monotonic() if self._pending else None
        self._snapshot: Snapshot | None = None

    @property
    def version(self) -> Version:
        """The version reads are served from."""
        return self._version

    def appended(self, entry: LogEntry) -> None:
        """Record a durable entry; return once it (and every earlier seq) is visible to reads."""
        with self._cond:
            bisect.insort(self._pending, entry, key=_seq)
            self._pending_records += entry.batch.num_rows
            if self._first_unindexed_at is None:
                self._first_unindexed_at = time.monotonic()
            self._advance_visible()
            self._cond.notify_all()
            while self._visible < entry.seq:
                self._cond.wait()

    def _advance_visible(self) -> None:
        """Move the visible seq over every entry that now follows it without a gap."""
        i = bisect.bisect_right(self._pending, self._visible, key=_seq)
        while i < len(self._pending) and self._pending[i].seq == self._visible + 1:
            self._visible += 1
            i += 1

    def snapshot(self) -> Snapshot:
        """A consistent view including every visible entry."""
        with self._cond:
            snap = self._snapshot
            if snap is not None and snap.overlay.upto_seq == self._visible:
                return snap
            version = self._version
            base = snap.overlay if snap is not None and snap.version is version else None
            start = base.upto_seq if base else version.log_offset
            lo = bisect.bisect_right(self._pending, start, key=_seq)
            hi = bisect.bisect_right(self._pending, self._visible, key=_seq)
            todo = self._pending[lo:hi]
            overlay = apply_entries(base or empty_overlay(version.num_rows, start), version, todo)
            self._snapshot = Snapshot(version, overlay)
            return self._snapshot

    def pending(self, limit_records: int | None = None) -> list[LogEntry]:
        """Visible tail entries in order; with a limit, a prefix holding about that many records."""
        with self._cond:
            out: list[LogEntry] = []
            total = 0
            for e in self._pending:
                if e.seq > self._visible or (
                    limit_records is not None and out and total >= limit_records
                ):
                    break
                out.append(e)
                total += e.batch.num_rows
            return out

    def tail_size(self) -> tuple[int, float]:
        """(records in the tail, seconds since the oldest unindexed write)."""
        with self._cond:
            records = self._pending_records
            since = self._first_unindexed_at
        return records, (time.monotonic() - since) if since is not None else 0.0

    def install(self, version: Version) -> None:
        """Serve from a newer version; drop the tail entries it covers."""
        with self._cond:
            self._version = version
            self._pending = self._pending[
                bisect.bisect_right(self._pending, version.log_offset, key=_seq) :
            ]
            self._pending_records = sum(e.batch.num_rows for e in self._pending)
            self._first_unindexed_at = time.monotonic() if self._pending else None
            self._snapshot = None


def _seq(entry: LogEntry) -> int:
    return entry.seq
