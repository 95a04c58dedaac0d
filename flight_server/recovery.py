"""Opening a data directory and its collections after any crash."""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path
from typing import Any

from .catalog.base import Catalog, CollectionRecord
from .errors import DataDirLockedError
from .executor.state import CollectionState
from .versions import TEMP_PREFIX, Version, VersionStore
from .wal.base import CollectionLog, LogStore


class OpenCollection:
    """An open collection: its catalog row, log, read state and locks."""

    def __init__(
        self, record: CollectionRecord, log: CollectionLog, state: CollectionState
    ) -> None:
        self.record = record
        self.collection_id = record.id
        self.log = log
        self.state = state
        self.compact_lock = threading.Lock()
        self.write_lock = threading.Lock()

    def index_settings(self) -> tuple[int | None, dict[str, Any]]:
        """(dimension, configuration)."""
        return self.record.dimension, self.record.configuration


def open_collection(
    catalog: Catalog, versions: VersionStore, logs: LogStore, collection_id: str
) -> OpenCollection:
    """Open a collection after any crash: drop unregistered version folders, load the registered
    version, purge the log it covers and replay the rest."""
    record = catalog.get_collection_by_id(collection_id)
    current = catalog.current_version(collection_id)
    keep = set(catalog.version_paths(collection_id))
    for name in versions.names(collection_id):  # unregistered or half-written leftovers
        if name not in keep or name.startswith(TEMP_PREFIX):
            versions.delete(collection_id, name)
    version = versions.load(collection_id, current) if current else Version.empty(record.dimension)
    log = logs.open(collection_id, min_seq=version.log_offset)
    log.purge(version.log_offset)
    entries = list(log.read(after_seq=version.log_offset))
    return OpenCollection(record, log, CollectionState(version, entries))


def subdirs(path: Path) -> set[str]:
    """Names of the folders directly under `path` (none when it is missing)."""
    return {p.name for p in path.iterdir() if p.is_dir()} if path.exists() else set()


def lock_data_dir(path: Path) -> Any:
    """Hold an exclusive lock on the data directory or fail at once."""
    handle = open(path / "LOCK", "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise DataDirLockedError(
            f"Data directory {path} is in use by another process (pid {holder}); "
            "close the client that holds it first",
            path=str(path),
        ) from None
    handle.truncate(0)
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def unlock_data_dir(handle: Any) -> None:
    """Release the data directory held by `lock_data_dir`."""
    fcntl.flock(handle, fcntl.LOCK_UN)
    handle.close()
