"""Chroma-compatible clients: `PersistentClient`, `EphemeralClient` (in-process) over one interface."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from flight_server.api import (
    DEFAULT_DATABASE,
    DEFAULT_TENANT,
    VERSION,
    DatabaseRecord,
    Op,
    open_engine,
)

from .collection import Collection, EmbeddingFunction, check_collection_metadata
from .config import EngineSettings, Settings
from .errors import InvalidArgumentError, NotSupportedError
from .results import validate_limit_offset
from .sql import SqlParams, sql_params
from .transfer import export_collection, import_collection
from .transport import Transport
from .utils.embedding_functions import DefaultEmbeddingFunction

# Chroma's default argument: documents and query texts without embeddings use all-MiniLM-L6-v2
# (the `embeddings` extra); pass embedding_function=None for a collection with no function.
DEFAULT_EMBEDDING_FUNCTION = DefaultEmbeddingFunction()


class Client:
    """A connection to FletchDB through a transport, scoped to a tenant and database."""

    def __init__(
        self,
        transport: Transport | Settings | None = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
        release: Callable[[], None] | None = None,
        *,
        settings: Settings | None = None,
    ) -> None:
        """`Client()` / `Client(settings)` as chromadb.Client: in memory, or persistent per settings."""
        owned = transport is None or isinstance(transport, EngineSettings)
        if owned:
            transport, release = _local_engine(settings or transport)
        self._transport = transport
        # what close() does: close the transport, or give a shared engine back
        self._release: Callable[[], None] = release or transport.close
        self.tenant = DEFAULT_TENANT
        self.database = DEFAULT_DATABASE
        try:
            self.set_tenant(tenant, database)
        except BaseException:
            if owned:  # an engine this call opened is not left open
                self.close()
            raise

    # Lifecycle -----------------------------------------------------------------------
    def heartbeat(self) -> int:
        """Nanoseconds since the epoch, from the engine."""
        return self._transport.heartbeat()

    def get_version(self) -> str:
        """FletchDB's version."""
        return VERSION

    def get_max_batch_size(self) -> int:
        """Most records one add/upsert/update may carry."""
        return int(self._transport.settings.max_batch_rows)

    def reset(self) -> bool:
        """Delete every tenant, database and collection (needs allow_reset)."""
        self._transport.reset()
        return True

    def close(self) -> None:
        """Release the engine (shared ones close with their last client; ephemeral data is removed)."""
        release, self._release = self._release, _closed
        release()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Tenants and databases -------------------------------------------------------------
    def set_tenant(self, tenant: str, database: str = DEFAULT_DATABASE) -> None:
        """Scope this client to a tenant (and database), which must exist."""
        # Chroma lets the NotFoundError of get_tenant / get_database through unchanged
        self._transport.get_tenant(tenant)
        self._transport.get_database(database, tenant)
        self.tenant, self.database = tenant, database

    def set_database(self, database: str) -> None:
        """Scope this client to a database of the current tenant, which must exist."""
        self._transport.get_database(database, self.tenant)
        self.database = database

    def create_tenant(self, name: str) -> None:
        """Create a tenant."""
        self._transport.create_tenant(name)

    def get_tenant(self, name: str) -> dict[str, str]:
        """A tenant, as Chroma's {"name": ...}."""
        return {"name": self._transport.get_tenant(name)}

    def create_database(self, name: str, tenant: str | None = None) -> None:
        """Create a database in a tenant (default: the client's)."""
        self._transport.create_database(name, tenant or self.tenant)

    def get_database(self, name: str, tenant: str | None = None) -> dict[str, str]:
        """A database, as Chroma's {"id", "name", "tenant"}."""
        return _database_dict(self._transport.get_database(name, tenant or self.tenant))

    def list_databases(
        self, limit: int | None = None, offset: int | None = None, tenant: str | None = None
    ) -> list[dict[str, str]]:
        """Databases of a tenant in creation order."""
        limit, offset = validate_limit_offset(limit, offset)
        return [
            _database_dict(d)
            for d in self._transport.list_databases(tenant or self.tenant, limit, offset)
        ]

    def delete_database(self, name: str, tenant: str | None = None) -> None:
        """Delete a database and all its collections."""
        self._transport.delete_database(name, tenant or self.tenant)

    # Collections -------------------------------------------------------------------------
    def create_collection(
        self,
        name: str,
        configuration: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        embedding_function: EmbeddingFunction | None = DEFAULT_EMBEDDING_FUNCTION,
        get_or_create: bool = False,
        **_: Any,
    ) -> Collection:
        """Create a collection; with get_or_create, return the existing one of that name."""
        check_collection_metadata(metadata, Op.ADD)
        record = self._transport.create_collection(
            name, configuration, metadata, get_or_create, self.tenant, self.database
        )
        return Collection(self._transport, record, embedding_function)

    def get_collection(
        self,
        name: str,
        embedding_function: EmbeddingFunction | None = DEFAULT_EMBEDDING_FUNCTION,
        **_: Any,
    ) -> Collection:
        """An existing collection (NotFoundError when missing)."""
        record = self._transport.get_collection(name, self.tenant, self.database)
        return Collection(self._transport, record, embedding_function)

    def get_or_create_collection(
        self,
        name: str,
        configuration: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        embedding_function: EmbeddingFunction | None = DEFAULT_EMBEDDING_FUNCTION,
        **_: Any,
    ) -> Collection:
        """The collection of that name, created if missing."""
        return self.create_collection(
            name, configuration, metadata, embedding_function, get_or_create=True
        )

    def list_collections(
        self, limit: int | None = None, offset: int | None = None
    ) -> list[Collection]:
        """Collections of the current database in creation order."""
        limit, offset = validate_limit_offset(limit, offset)
        records = self._transport.list_collections(self.tenant, self.database, limit, offset)
        return [Collection(self._transport, r, DEFAULT_EMBEDDING_FUNCTION) for r in records]

    def count_collections(self) -> int:
        """Number of collections in the current database."""
        return self._transport.count_collections(self.tenant, self.database)

    def delete_collection(self, name: str) -> None:
        """Delete a collection and its data."""
        self._transport.delete_collection(name, self.tenant, self.database)

    def sql(self, query: str, params: SqlParams = None) -> pa.Table:
        """One read-only DuckDB SELECT over the current database's collections (docs/sql.md).

        Each collection is a table of its name: id, document, embedding FLOAT[dim] and one column
        per metadata key; every acknowledged write is seen. `params` fill `?`/`$1` (a list) or
        `$name` (a dict) placeholders. Returns a pyarrow.Table (`polars.from_arrow(t)`,
        `t.to_pandas()`).
        """
        return self._transport.sql(query, sql_params(query, params), self.tenant, self.database)

    # Backups (sdk/transfer.py, docs/dataframes.md) -------------------------------------
    def export_collection(
        self,
        name: str,
        path: str | Path,
        *,
        progress: bool | None = None,
        batch_size: int | None = None,
    ) -> int:
        """Write every live record of a collection (one snapshot) to a Parquet file; the count."""
        collection = self.get_collection(name)
        return export_collection(collection, path, progress=progress, batch_size=batch_size)

    def import_collection(
        self,
        path: str | Path,
        name: str | None = None,
        *,
        progress: bool | None = None,
        batch_size: int | None = None,
    ) -> Collection:
        """Create a collection from an exported Parquet file (under `name`, if given)."""
        return import_collection(self, path, name, progress=progress, batch_size=batch_size)


def _database_dict(record: DatabaseRecord) -> dict[str, str]:
    return {"id": record.id, "name": record.name, "tenant": record.tenant}


def PersistentClient(  # noqa: N802 - Chroma's factory name
    path: str | Path = "./fletchdb_data",
    settings: Settings | None = None,
    tenant: str = DEFAULT_TENANT,
    database: str = DEFAULT_DATABASE,
) -> Client:
    """An in-process client whose data lives under `path`.

    Clients of one path in one process share one engine (as Chroma shares its system), which
    closes with the last of them; another process gets DataDirLockedError.
    """
    engine, release = _shared_engine(path, settings)
    try:
        return Client(engine, tenant, database, release=release)
    except BaseException:
        release()
        raise


def _shared_engine(
    path: str | Path, settings: Settings | None
) -> tuple[Transport, Callable[[], None]]:
    """The process's engine of `path` (opened if needed) and the function that gives it back."""
    key = Path(path).resolve()
    with _SHARED_LOCK:
        entry = _SHARED.get(key)
        if entry is None:
            entry = _SHARED[key] = [open_engine(path, settings), 0]
        elif settings is not None and settings.as_dict() != entry[0].settings.as_dict():
            raise InvalidArgumentError(
                f"An instance of FletchDB already exists for {key} with different settings"
            )
        entry[1] += 1
    return entry[0], lambda: _release_shared(key)


def _local_engine(settings: Settings | None) -> tuple[Transport, Callable[[], None] | None]:
    """chromadb.Client's choice: persistent at persist_directory if is_persistent, else in memory."""
    if settings is not None and getattr(settings, "is_persistent", False):
        return _shared_engine(settings.persist_directory, settings)
    return open_engine(None, settings), None


_SHARED: dict[Path, list[Any]] = {}  # resolved path -> [engine, number of open clients]
_SHARED_LOCK = threading.Lock()


def _release_shared(key: Path) -> None:
    with _SHARED_LOCK:
        entry = _SHARED[key]
        entry[1] -= 1
        if entry[1] > 0:
            return
        del _SHARED[key]
    entry[0].close()


def _closed() -> None:
    """What a closed client's release does: nothing (close is idempotent)."""


def EphemeralClient(  # noqa: N802 - Chroma's factory name
    settings: Settings | None = None,
    tenant: str = DEFAULT_TENANT,
    database: str = DEFAULT_DATABASE,
) -> Client:
    """An in-process client on temporary storage, removed on close."""
    return Client(open_engine(None, settings), tenant, database)


def HttpClient(  # noqa: N802 - Chroma's factory name
    host: str = "localhost", port: int | str = 8000, ssl: bool = False, **_: Any
) -> Client:
    """Chroma's REST client: FletchDB has no REST front yet; raises NotSupportedError naming FlightClient."""
    scheme = "grpc+tls" if ssl else "grpc"
    raise NotSupportedError(
        f"fletchdb.HttpClient({host!r}, {port!r}): FletchDB has no REST (HTTP) front yet. Its "
        "server (`fletchdb serve`) speaks Arrow Flight: connect with "
        f"fletchdb.FlightClient('{scheme}://{host}:8815', token=...), the token being the one "
        "`fletchdb serve` prints or `fletchdb token` mints (README, 'The server')."
    )


AsyncHttpClient = HttpClient
