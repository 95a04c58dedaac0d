"""Opening a data directory and its collections after any crash."""

from __future__ import annotations

import fcntl
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

from ..catalog.base import Catalog, CollectionRecord
from ..errors import DataDirLockedError
from ..executor.state import CollectionState
from ..versions.store import Version, VersionStore
from ..wal.base import CollectionLog, LogStore

# How long an open waits for a holder that is being killed to let go of the directory lock: the
# kernel drops an flock only once the dying process's files are closed, which for a process with
# large memory maps can take a while after SIGKILL returned to the killer.
DYING_HOLDER_WAIT = 10.0
_PF_EXITING = 0x4  # task flag in /proc/<pid>/stat: the process is in exit


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
    # unregistered or half-written leftovers (a store's temporary names are never registered)
    for name in versions.names(collection_id):
        if name not in keep:
            versions.delete(collection_id, name)
    version = versions.load(collection_id, current) if current else Version.empty(record.dimension)
    log = logs.open(collection_id, min_seq=version.log_offset)
    log.purge(version.log_offset)
    entries = list(log.read(after_seq=version.log_offset))
    return OpenCollection(record, log, CollectionState(version, entries))


def lock_data_dir(path: Path) -> Any:
    """Hold an exclusive lock on the data directory, or fail at once if a live process holds it.

    A holder that is dying (killed, exiting) is waited for, up to DYING_HOLDER_WAIT seconds."""
    handle = open(path / "LOCK", "a+")
    deadline = time.monotonic() + DYING_HOLDER_WAIT
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            if time.monotonic() < deadline and _is_dying(holder):
                time.sleep(0.01)  # poll: flock has no timeout, and the holder has only to close
                continue
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


def _is_dying(pid: str) -> bool:
    """Whether process `pid` is exiting or has a SIGKILL pending (Linux /proc; False elsewhere)."""
    if not pid.isdigit() or int(pid) == os.getpid() or not os.path.isdir("/proc/self"):
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True  # gone already: its lock is being released
    except OSError:
        return False
    fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state ppid ... flags is 7th
    state, flags = fields[0], int(fields[6])
    if state in ("Z", "X", "x") or flags & _PF_EXITING:
        return True
    pending = 0
    for line in status.splitlines():
        if line.startswith(("SigPnd:", "ShdPnd:")):
            pending |= int(line.split()[1], 16)
    return bool(pending & (1 << (signal.SIGKILL - 1)))


def unlock_data_dir(handle: Any) -> None:
    """Release the data directory held by `lock_data_dir`."""
    fcntl.flock(handle, fcntl.LOCK_UN)
    handle.close()
