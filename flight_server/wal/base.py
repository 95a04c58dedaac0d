"""The write-ahead-log interface: local files now, an object store in distributed mode."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa

from ..schema import Op


@dataclass(frozen=True)
class LogEntry:
    """One durable write: its log-assigned sequence number, operation and record batch."""

    seq: int
    op: Op
    batch: pa.RecordBatch


class CollectionLog(ABC):
    """The log of one collection. Sequence numbers start at 1 and only grow."""

    @abstractmethod
    def append(self, op: Op, batch: pa.RecordBatch) -> int:
        """Make `batch` durable as one atomic write and return its sequence number."""

    @abstractmethod
    def read(self, after_seq: int = 0) -> Iterator[LogEntry]:
        """Every durable entry with seq > after_seq, in order."""

    @property
    @abstractmethod
    def last_seq(self) -> int:
        """The highest durable sequence number (0 when empty)."""

    @abstractmethod
    def purge(self, upto_seq: int) -> int:
        """Delete segments whose entries all have seq <= upto_seq; return how many were deleted."""

    @abstractmethod
    def close(self) -> None:
        """Release files; further appends raise ClosedError."""


class LogStore(ABC):
    """Opens, creates and drops the logs of many collections."""

    @abstractmethod
    def open(self, collection_id: str, min_seq: int = 0) -> CollectionLog:
        """The log of a collection (created when missing); new seqs start above `min_seq`."""

    @abstractmethod
    def drop(self, collection_id: str) -> None:
        """Delete a collection's log entirely."""

    @abstractmethod
    def collection_ids(self) -> set[str]:
        """Ids of every collection that has a log here (what a reopen recovers)."""

    @abstractmethod
    def close(self) -> None:
        """Close every open log."""
