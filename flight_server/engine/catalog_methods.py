"""The engine's catalog work: tenants, databases and collections (a mixin of `Engine`).

Kept apart from the data path (writes, reads, compaction) in core.py. Lookups check names
here (type, and the rules of tenant and database names); the catalog checks them at creation.
"""

from __future__ import annotations

import threading
from typing import Any

from ..arguments.collection_config import resolve_configuration, update_configuration
from ..arguments.collection_meta import validate_collection_metadata
from ..catalog.base import (
    DEFAULT_DATABASE,
    DEFAULT_TENANT,
    Catalog,
    CollectionRecord,
    DatabaseRecord,
)
from ..catalog.names import check_name_types
from ..compactor.scheduler import Compactor
from ..config import Settings
from ..errors import ClosedError
from ..executor.reader import Executor
from ..versions.store import VersionStore
from ..wal.base import LogStore
from .recovery import OpenCollection


class CatalogMethods:
    """Catalog operations of `Engine`; the attributes are the engine's own."""

    settings: Settings
    catalog: Catalog
    logs: LogStore
    versions: VersionStore
    executor: Executor
    compactor: Compactor
    _open: dict[str, OpenCollection]
    _open_lock: threading.Lock
    _closed: bool

    def _check_open(self) -> None:
        if self._closed:
            raise ClosedError("This client has been closed")

    def create_tenant(self, name: str) -> None:
        """Create a tenant."""
        self._check_open()
        self.catalog.create_tenant(name)

    def get_tenant(self, name: str) -> str:
        """A tenant's name, if it exists."""
        self._check_open()
        check_name_types(tenant=name)
        return self.catalog.get_tenant(name)

    def create_database(self, name: str, tenant: str = DEFAULT_TENANT) -> DatabaseRecord:
        """Create a database."""
        self._check_open()
        check_name_types(tenant=tenant)
        return self.catalog.create_database(name, tenant)

    def get_database(self, name: str, tenant: str = DEFAULT_TENANT) -> DatabaseRecord:
        """A database, if it exists."""
        self._check_open()
        check_name_types(database=name, tenant=tenant)
        return self.catalog.get_database(name, tenant)

    def list_databases(
        self, tenant: str = DEFAULT_TENANT, limit: int | None = None, offset: int | None = None
    ) -> list[DatabaseRecord]:
        """Databases of a tenant."""
        self._check_open()
        check_name_types(tenant=tenant)
        return self.catalog.list_databases(tenant, limit, offset)

    def delete_database(self, name: str, tenant: str = DEFAULT_TENANT) -> None:
        """Delete a database with its collections."""
        self._check_open()
        check_name_types(database=name, tenant=tenant)
        for collection_id in self.catalog.delete_database(name, tenant):
            self._forget(collection_id)

    def create_collection(
        self,
        name: str,
        configuration: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        get_or_create: bool = False,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
    ) -> CollectionRecord:
        """Create a collection (or get it, with get_or_create)."""
        self._check_open()
        validate_collection_metadata(metadata, allow_none=False)
        check_name_types(tenant=tenant, database=database)
        resolved = resolve_configuration(configuration, metadata, self.settings)
        record, _ = self.catalog.create_collection(
            name, tenant, database, resolved, metadata, get_or_create
        )
        return record

    def get_collection(
        self, name: str, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE
    ) -> CollectionRecord:
        """A collection by name."""
        self._check_open()
        check_name_types(collection=name, tenant=tenant, database=database)
        return self.catalog.get_collection(name, tenant, database)

    def list_collections(
        self,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
        limit: int | None = None,
        offset: int | None = None,
    ) -> list[CollectionRecord]:
        """Collections of a database."""
        self._check_open()
        check_name_types(tenant=tenant, database=database)
        return self.catalog.list_collections(tenant, database, limit, offset)

    def list_all_collections(self) -> list[CollectionRecord]:
        """Every collection of every tenant and database."""
        self._check_open()
        return self.catalog.list_all_collections()

    def count_collections(
        self, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE
    ) -> int:
        """Number of collections in a database."""
        self._check_open()
        check_name_types(tenant=tenant, database=database)
        return self.catalog.count_collections(tenant, database)

    def modify_collection(
        self,
        collection_id: str,
        name: str | None = None,
        metadata: dict[str, Any] | None = None,
        configuration: dict[str, Any] | None = None,
    ) -> CollectionRecord:
        """Rename, replace metadata, or change the settable HNSW keys."""
        self._check_open()
        validate_collection_metadata(metadata, allow_none=True)
        current = self.catalog.get_collection_by_id(collection_id)
        new_config = (
            update_configuration(current.configuration, configuration, self.settings)
            if configuration
            else None
        )
        record = self.catalog.update_collection(collection_id, name, metadata, new_config)
        with self._open_lock:
            if collection_id in self._open:
                self._open[collection_id].record = record
        return record

    def delete_collection(
        self, name: str, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE
    ) -> None:
        """Delete a collection and all its data."""
        self._check_open()
        check_name_types(collection=name, tenant=tenant, database=database)
        self._forget(self.catalog.delete_collection(name, tenant, database))

    def _forget(self, collection_id: str) -> None:
        with self._open_lock:
            handle = self._open.pop(collection_id, None)
        if handle is not None:
            with handle.compact_lock:
                handle.log.close()
        self.compactor.forget(collection_id)
        self.executor.forget(collection_id)
        self._drop_files(collection_id)

    def _drop_files(self, collection_id: str) -> None:
        self.logs.drop(collection_id)
        self.versions.drop(collection_id)
