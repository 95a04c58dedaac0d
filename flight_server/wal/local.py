"""The write-ahead log on local files: one directory per collection under a root."""

from __future__ import annotations

import os
import re
import shutil
import threading
import uuid
from pathlib import Path

from ..errors import ClosedError, InvalidArgumentError
from .base import LogStore
from .collection import DEFAULT_SEGMENT_BYTES, LocalCollectionLog, LogStats
from .segment import fsync_dir, make_dirs

__all__ = ["DEFAULT_SEGMENT_BYTES", "LocalCollectionLog", "LocalLogStore", "LogStats"]

_COLLECTION_ID = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}$")
_DROPPED = ".dropped-"


class LocalLogStore(LogStore):
    """Collection logs under `root`, one directory each; segments roll at `segment_bytes`."""

    def __init__(self, root: str | Path, segment_bytes: int = DEFAULT_SEGMENT_BYTES) -> None:
        if segment_bytes <= 0:
            raise InvalidArgumentError(f"segment_bytes must be positive, got {segment_bytes}")
        self._root = Path(root)
        make_dirs(self._root)
        self._segment_bytes = segment_bytes
        self._logs: dict[str, LocalCollectionLog] = {}
        self._lock = threading.Lock()
        self._closed = False
        for entry in os.scandir(self._root):
            if entry.name.startswith(_DROPPED):
                shutil.rmtree(entry.path)  # a drop interrupted by a crash

    @property
    def root(self) -> Path:
        """The directory holding one subdirectory per collection."""
        return self._root

    def open(self, collection_id: str, min_seq: int = 0) -> LocalCollectionLog:
        """The log of a collection (created when missing); new seqs start above `min_seq`."""
        directory = self._dir(collection_id)
        with self._lock:
            if self._closed:
                raise ClosedError("log store is closed")
            log = self._logs.get(collection_id)
            if log is not None and not log.closed:
                log.raise_floor(min_seq)
                return log
            log = LocalCollectionLog(directory, self._segment_bytes, min_seq)
            self._logs[collection_id] = log
            return log

    def drop(self, collection_id: str) -> None:
        """Delete a collection's log entirely (a no-op when it has none)."""
        directory = self._dir(collection_id)
        with self._lock:
            log = self._logs.pop(collection_id, None)
            if log is not None:
                log.close()
            if directory.is_dir():
                # Rename first: a crash part way must not leave a log with holes that looks valid.
                grave = self._root / f"{_DROPPED}{collection_id}-{uuid.uuid4().hex}"
                os.rename(directory, grave)
                fsync_dir(self._root)
                shutil.rmtree(grave)

    def collection_ids(self) -> set[str]:
        """Ids of every collection that has a log directory under the root."""
        with os.scandir(self._root) as entries:
            return {e.name for e in entries if e.is_dir() and not e.name.startswith(_DROPPED)}

    def close(self) -> None:
        """Close every open log; further opens raise ClosedError."""
        with self._lock:
            self._closed = True
            logs, self._logs = list(self._logs.values()), {}
        for log in logs:
            log.close()

    def _dir(self, collection_id: str) -> Path:
        if not isinstance(collection_id, str) or not _COLLECTION_ID.match(collection_id):
            raise InvalidArgumentError(f"invalid collection id for a log: {collection_id!r}")
        return self._root / collection_id
