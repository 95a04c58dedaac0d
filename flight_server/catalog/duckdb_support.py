"""DuckDB plumbing for the catalog: connecting, per-file shared state, row conversion."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import duckdb

from flight_server.catalog.base import CollectionRecord, VersionRecord
from flight_server.errors import DataDirLockedError, InvalidArgumentError

DUCKDB_CONFIG: dict[str, Any] = {
    "autoinstall_known_extensions": "false",
    "autoload_known_extensions": "false",
}
# Chroma's sqlite sysdb gives the default database the nil UUID; so does FletchDB.
DEFAULT_DATABASE_ID = "00000000-0000-0000-0000-000000000000"

Row = tuple[Any, ...]
CACHED_QUERIES = frozenset(
    {"select_collection_by_name", "select_collection_by_id", "select_current_version"}
)
CACHE_LIMIT = 10_000


class SharedState:
    """Lock and read cache shared by every catalog open on one file in this process."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.cache: dict[tuple[str, tuple[Any, ...]], Row | None] = {}
        self.users = 0


_SHARED: dict[str, SharedState] = {}
_SHARED_GUARD = threading.Lock()


def acquire(path: str) -> tuple[str, SharedState]:
    """The shared state of `path` (a fresh one for ":memory:")."""
    if path == ":memory:":
        return "", SharedState()
    key = os.path.realpath(path)
    with _SHARED_GUARD:
        state = _SHARED.setdefault(key, SharedState())
        state.users += 1
        return key, state


def release(key: str) -> None:
    """Drop one user of the shared state of a file."""
    with _SHARED_GUARD:
        state = _SHARED.get(key)
        if state is not None:
            state.users -= 1
            if state.users <= 0:
                del _SHARED[key]


def connect(path: str | Path) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB file (or ":memory:"); DataDirLockedError if another process holds it."""
    target = str(path)
    if target != ":memory:":
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    try:
        return duckdb.connect(target, config=DUCKDB_CONFIG)
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise
        raise DataDirLockedError(
            f"The catalog {target} is in use by another process ({exc})", path=target
        ) from exc


def dump_json(value: dict[str, Any] | None) -> str | None:
    """JSON text of a metadata/configuration dict (None stays NULL)."""
    if value is None:
        return None
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(f"Expected a JSON-serializable dict: {exc}") from exc


def collection_from_row(row: Row) -> CollectionRecord:
    """A CollectionRecord from an (id, name, tenant, database, dimension, config, metadata) row."""
    cid, name, tenant, database, dimension, config_json, metadata_json = row
    return CollectionRecord(
        id=str(cid),
        name=str(name),
        tenant=str(tenant),
        database=str(database),
        dimension=None if dimension is None else int(dimension),
        configuration=json.loads(config_json) if config_json else {},
        metadata=None if metadata_json is None else json.loads(metadata_json),
    )


def version_from_row(row: Row) -> VersionRecord:
    """A VersionRecord from a (collection_id, version, path, log_offset, record_count) row."""
    cid, version, path, log_offset, record_count = row
    return VersionRecord(str(cid), int(version), str(path), int(log_offset), int(record_count))
