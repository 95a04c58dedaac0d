"""The system database on a DuckDB file (local and single-node modes)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from flight_server.arguments.pages import page_params
from flight_server.catalog.base import (
    DEFAULT_DATABASE,
    DEFAULT_TENANT,
    Catalog,
    CollectionRecord,
    DatabaseRecord,
    VersionRecord,
)
from flight_server.catalog.duckdb_support import (
    CACHE_LIMIT,
    CACHED_QUERIES,
    DEFAULT_DATABASE_ID,
    Row,
    acquire,
    collection_from_row,
    connect,
    dump_json,
    release,
    version_from_row,
)
from flight_server.catalog.migrations import QUERIES_FILE, QUERIES_PACKAGE, apply_migrations
from flight_server.catalog.names import (
    validate_collection_name,
    validate_database_name,
    validate_tenant_name,
)
from flight_server.catalog.queries import load_queries
from flight_server.errors import (
    ClosedError,
    InvalidArgumentError,
    NotFoundError,
    UniqueConstraintError,
    VersionConflictError,
    quote_input,
)


class DuckDBCatalog(Catalog):
    """Catalog on one DuckDB connection, serialized by a lock (safe to share across threads).

    Collection and current-version lookups are served from a read cache that every write
    transaction clears; the file lock makes this process the only writer, and catalogs opened
    twice on one file in this process share the lock and the cache."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._q = load_queries(QUERIES_PACKAGE, QUERIES_FILE)
        self._key, self._shared = acquire(self.path)
        self._lock = self._shared.lock
        try:
            self._con: duckdb.DuckDBPyConnection | None = connect(self.path)
        except BaseException:
            release(self._key)
            raise
        try:
            self.applied_migrations = apply_migrations(self._con)
            with self._transaction():
                self._ensure_defaults()
        except BaseException:
            self.close()
            raise

    # Plumbing ---------------------------------------------------------------------------
    @contextmanager
    def _locked(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._lock:
            if self._con is None:
                raise ClosedError(f"The catalog {self.path} is closed")
            yield self._con

    @contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._locked() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            finally:
                self._shared.cache.clear()
            con.execute("COMMIT")

    def _one(self, name: str, params: list[Any]) -> Row | None:
        key = (name, tuple(params))
        with self._locked() as con:
            cache = self._shared.cache
            if key in cache:
                return cache[key]
            row = con.execute(self._q[name], params).fetchone()
            if name in CACHED_QUERIES:
                if len(cache) >= CACHE_LIMIT:
                    cache.clear()
                cache[key] = row
            return row

    def _all(self, name: str, params: list[Any]) -> list[Row]:
        with self._locked() as con:
            return con.execute(self._q[name], params).fetchall()

    def _ensure_defaults(self) -> None:
        with self._locked() as con:
            con.execute(self._q["ensure_tenant"], [DEFAULT_TENANT])
            con.execute(
                self._q["ensure_database"], [DEFAULT_DATABASE_ID, DEFAULT_DATABASE, DEFAULT_TENANT]
            )

    # Tenants and databases ---------------------------------------------------------------
    def create_tenant(self, name: str) -> None:
        """Create a tenant; UniqueConstraintError if it exists."""
        validate_tenant_name(name)
        with self._transaction() as con:
            if con.execute(self._q["select_tenant"], [name]).fetchone():
                raise UniqueConstraintError(f"Tenant [{quote_input(name)}] already exists")
            con.execute(self._q["insert_tenant"], [name])

    def get_tenant(self, name: str) -> str:
        """The tenant's name; NotFoundError if missing."""
        row = self._one("select_tenant", [name])
        if row is None:
            raise NotFoundError(f"Tenant [{quote_input(name)}] not found")
        return str(row[0])

    def create_database(self, name: str, tenant: str) -> DatabaseRecord:
        """Create a database in a tenant; NotFoundError for a missing tenant, UniqueConstraintError if it exists."""
        validate_database_name(name)
        record = DatabaseRecord(id=str(uuid.uuid4()), name=name, tenant=tenant)
        with self._transaction() as con:
            if not con.execute(self._q["select_tenant"], [tenant]).fetchone():
                raise NotFoundError(f"Tenant [{quote_input(tenant)}] not found")
            if con.execute(self._q["select_database"], [tenant, name]).fetchone():
                raise UniqueConstraintError(f"Database [{quote_input(name)}] already exists")
            con.execute(self._q["insert_database"], [record.id, name, tenant])
        return record

    def get_database(self, name: str, tenant: str) -> DatabaseRecord:
        """A database; NotFoundError if missing."""
        row = self._one("select_database", [tenant, name])
        if row is None:
            raise NotFoundError(
                f"Database [{quote_input(name)}] not found. Are you sure it exists?"
            )
        return DatabaseRecord(id=str(row[0]), name=str(row[1]), tenant=str(row[2]))

    def list_databases(
        self, tenant: str, limit: int | None = None, offset: int | None = None
    ) -> list[DatabaseRecord]:
        """Databases of a tenant ordered by creation."""
        rows = self._all("list_databases", [tenant, *page_params(limit, offset)])
        return [DatabaseRecord(id=str(i), name=str(n), tenant=str(t)) for i, n, t in rows]

    def delete_database(self, name: str, tenant: str) -> list[str]:
        """Delete a database and its collections; return the deleted collection ids."""
        with self._transaction() as con:
            if not con.execute(self._q["select_database"], [tenant, name]).fetchone():
                raise NotFoundError(f"Database [{quote_input(name)}] not found")
            rows = con.execute(self._q["select_collection_ids_in_database"], [tenant, name])
            ids = [str(r[0]) for r in rows.fetchall()]
            con.execute(self._q["delete_versions_in_database"], [tenant, name])
            con.execute(self._q["delete_collections_in_database"], [tenant, name])
            con.execute(self._q["delete_database"], [tenant, name])
        return ids

    # Collections ------------------------------------------------------------------------
    def create_collection(
        self,
        name: str,
        tenant: str,
        database: str,
        configuration: dict[str, Any],
        metadata: dict[str, Any] | None,
        get_or_create: bool = False,
    ) -> tuple[CollectionRecord, bool]:
        """Create (or with get_or_create, fetch unchanged, as Chroma does) a collection; return (record, created)."""
        validate_collection_name(name)
        record = CollectionRecord(
            id=str(uuid.uuid4()),
            name=name,
            tenant=tenant,
            database=database,
            dimension=None,
            configuration=dict(configuration or {}),
            metadata=None if metadata is None else dict(metadata),
        )
        config_json, metadata_json = dump_json(record.configuration), dump_json(record.metadata)
        with self._transaction() as con:
            row = con.execute(self._q["select_collection_by_name"], [tenant, database, name])
            existing = row.fetchone()
            if existing is not None:
                if get_or_create:
                    return collection_from_row(existing), False
                raise UniqueConstraintError(f"Collection [{quote_input(name)}] already exists")
            if not con.execute(self._q["select_database"], [tenant, database]).fetchone():
                raise NotFoundError(f"Database [{quote_input(database)}] does not exist")
            con.execute(
                self._q["insert_collection"],
                [record.id, name, tenant, database, None, config_json, metadata_json],
            )
        return record, True

    def get_collection(self, name: str, tenant: str, database: str) -> CollectionRecord:
        """A collection by name; NotFoundError 'Collection [name] does not exist'."""
        row = self._one("select_collection_by_name", [tenant, database, name])
        if row is None:
            raise NotFoundError(f"Collection [{quote_input(name)}] does not exist")
        return collection_from_row(row)

    def get_collection_by_id(self, collection_id: str) -> CollectionRecord:
        """A collection by id; NotFoundError 'Collection [id] does not exist'."""
        row = self._one("select_collection_by_id", [str(collection_id)])
        if row is None:
            raise NotFoundError(f"Collection [{quote_input(collection_id)}] does not exist")
        return collection_from_row(row)

    def list_collections(
        self, tenant: str, database: str, limit: int | None = None, offset: int | None = None
    ) -> list[CollectionRecord]:
        """Collections of a database ordered by creation."""
        rows = self._all("list_collections", [tenant, database, *page_params(limit, offset)])
        return [collection_from_row(r) for r in rows]

    def list_all_collections(self) -> list[CollectionRecord]:
        """Every collection of every tenant and database, ordered by creation (for background work)."""
        return [collection_from_row(r) for r in self._all("list_all_collections", [])]

    def count_collections(self, tenant: str, database: str) -> int:
        """Number of collections in a database."""
        row = self._one("count_collections", [tenant, database])
        return int(row[0]) if row else 0

    def update_collection(
        self,
        collection_id: str,
        name: str | None = None,
        metadata: dict[str, Any] | None = None,
        configuration: dict[str, Any] | None = None,
    ) -> CollectionRecord:
        """Rename and/or replace metadata/configuration; UniqueConstraintError on a taken name."""
        cid = str(collection_id)
        if name is not None:
            validate_collection_name(name)
        with self._transaction() as con:
            row = con.execute(self._q["select_collection_by_id"], [cid]).fetchone()
            if row is None:
                raise NotFoundError(f"Collection [{quote_input(collection_id)}] does not exist")
            current = collection_from_row(row)
            if name is not None and name != current.name:
                key = [current.tenant, current.database, name]
                if con.execute(self._q["select_collection_by_name"], key).fetchone():
                    raise UniqueConstraintError(f"Collection [{quote_input(name)}] already exists")
                con.execute(self._q["update_collection_name"], [name, cid])
            if metadata is not None:
                con.execute(self._q["update_collection_metadata"], [dump_json(metadata), cid])
            if configuration is not None:
                con.execute(
                    self._q["update_collection_configuration"], [dump_json(configuration), cid]
                )
            updated = con.execute(self._q["select_collection_by_id"], [cid]).fetchone()
        assert updated is not None
        return collection_from_row(updated)

    def set_dimension(self, collection_id: str, dimension: int) -> int:
        """Fix the dimension if unset; return the collection's dimension afterwards."""
        if isinstance(dimension, bool) or not isinstance(dimension, int) or dimension <= 0:
            raise InvalidArgumentError(
                f"Expected dimension to be a positive int, got {dimension!r}"
            )
        cid = str(collection_id)
        with self._transaction() as con:
            con.execute(self._q["set_dimension_if_unset"], [dimension, cid])
            row = con.execute(self._q["select_dimension"], [cid]).fetchone()
            if row is None:
                raise NotFoundError(f"Collection [{quote_input(collection_id)}] does not exist")
        return int(row[0])

    def delete_collection(self, name: str, tenant: str, database: str) -> str:
        """Delete a collection and its versions; return its id; NotFoundError if missing."""
        with self._transaction() as con:
            row = con.execute(self._q["select_collection_by_name"], [tenant, database, name])
            found = row.fetchone()
            if found is None:
                raise NotFoundError(f"Collection [{quote_input(name)}] does not exist")
            cid = str(found[0])
            con.execute(self._q["delete_collection_versions"], [cid])
            con.execute(self._q["delete_collection"], [cid])
        return cid

    # Index versions ---------------------------------------------------------------------
    def current_version(self, collection_id: str) -> VersionRecord | None:
        """The registered version serving the collection, or None before the first compaction."""
        row = self._one("select_current_version", [str(collection_id)])
        return None if row is None else version_from_row(row)

    def register_version(self, new: VersionRecord, expected_version: int) -> None:
        """Compare-and-set the current version in one transaction; VersionConflictError if stale.

        A missing collection (deleted meanwhile) is a conflict too: nothing changes either way."""
        cid = str(new.collection_id)
        if new.version <= expected_version:
            raise InvalidArgumentError(
                f"New version {new.version} must be greater than the expected {expected_version}"
            )
        with self._transaction() as con:
            fence = con.execute(self._q["select_version_fence"], [cid]).fetchone()
            if fence is None:
                raise VersionConflictError(f"Collection [{cid}] does not exist", collection_id=cid)
            current, current_offset = int(fence[0]), fence[1]
            if current != expected_version:
                raise VersionConflictError(
                    f"Collection [{cid}] is at version {current}, not {expected_version}",
                    collection_id=cid, current=current, expected=expected_version,
                )  # fmt: skip
            if current_offset is not None and new.log_offset < int(current_offset):
                raise VersionConflictError(
                    f"Version {new.version} covers log offset {new.log_offset}, behind the "
                    f"current version's {current_offset}",
                    collection_id=cid, log_offset=new.log_offset, current_offset=current_offset,
                )  # fmt: skip
            con.execute(
                self._q["insert_version"],
                [cid, new.version, new.path, new.log_offset, new.record_count],
            )
            moved = con.execute(self._q["advance_current_version"], [new.version, cid, current])
            if int((moved.fetchone() or (0,))[0]) != 1:
                raise VersionConflictError(f"Collection [{cid}] changed concurrently")
            con.execute(self._q["delete_older_versions"], [cid, new.version])

    def version_paths(self, collection_id: str) -> list[str]:
        """Paths of every version the catalog still references for a collection."""
        return [str(r[0]) for r in self._all("version_paths", [str(collection_id)])]

    def all_version_paths(self) -> list[str]:
        """Paths of every version of every collection (what a garbage collector must keep)."""
        return [str(r[0]) for r in self._all("all_version_paths", [])]

    # Lifecycle --------------------------------------------------------------------------
    def reset(self) -> None:
        """Delete every tenant, database, collection and version, then recreate the defaults."""
        with self._transaction() as con:
            for query in ("versions", "collections", "databases", "tenants"):
                con.execute(self._q[f"delete_all_{query}"])
            self._ensure_defaults()

    def close(self) -> None:
        """Close the connection (idempotent); later calls raise ClosedError."""
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None
                release(self._key)
