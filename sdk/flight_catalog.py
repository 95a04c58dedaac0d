"""The remote transport's catalog calls: tenants, databases and collections as DoActions.

A mixin of `FlightTransport` (flight_transport.py), which supplies `action`. Names are checked for
type here, as the local engine does, so a wrong type fails before any round trip.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flight_server.api import CollectionRecord, DatabaseRecord, check_name_types, page_params

from .remote_args import check_configuration_type


class RemoteCatalogMethods:
    """Catalog operations over DoAction; `action(name, **args)` is the transport's."""

    action: Callable[..., Any]  # FlightTransport.action: one DoAction call, its JSON result

    # Tenants and databases -----------------------------------------------------------
    def create_tenant(self, name: str) -> None:
        """Create a tenant."""
        check_name_types(tenant=name)
        self.action("create_tenant", name=name)

    def get_tenant(self, name: str) -> str:
        """A tenant's name, if it exists and is visible."""
        check_name_types(tenant=name)
        return str(self.action("get_tenant", name=name)["name"])

    def create_database(self, name: str, tenant: str) -> DatabaseRecord:
        """Create a database."""
        check_name_types(database=name)
        return DatabaseRecord(**self.action("create_database", name=name, tenant=tenant))

    def get_database(self, name: str, tenant: str) -> DatabaseRecord:
        """A database."""
        check_name_types(database=name, tenant=tenant)
        return DatabaseRecord(**self.action("get_database", name=name, tenant=tenant))

    def list_databases(
        self, tenant: str, limit: int | None, offset: int | None
    ) -> list[DatabaseRecord]:
        """Databases of a tenant."""
        page_params(limit, offset)
        rows = self.action("list_databases", tenant=tenant, limit=limit, offset=offset)
        return [DatabaseRecord(**r) for r in rows]

    def delete_database(self, name: str, tenant: str) -> None:
        """Delete a database with its collections."""
        check_name_types(database=name, tenant=tenant)
        self.action("delete_database", name=name, tenant=tenant)

    # Collections -----------------------------------------------------------------------
    def create_collection(
        self,
        name: str,
        configuration: dict[str, Any] | None,
        metadata: dict[str, Any] | None,
        get_or_create: bool,
        tenant: str,
        database: str,
    ) -> CollectionRecord:
        """Create (or get) a collection."""
        check_configuration_type(configuration)  # local mode checks it first, then the name
        check_name_types(collection=name)
        row = self.action(
            "create_collection",
            name=name,
            configuration=configuration,
            metadata=metadata,
            get_or_create=bool(get_or_create),
            tenant=tenant,
            database=database,
        )
        return CollectionRecord(**row)

    def get_collection(self, name: str, tenant: str, database: str) -> CollectionRecord:
        """A collection by name."""
        check_name_types(collection=name, tenant=tenant, database=database)
        row = self.action("get_collection", name=name, tenant=tenant, database=database)
        return CollectionRecord(**row)

    def list_collections(
        self, tenant: str, database: str, limit: int | None, offset: int | None
    ) -> list[CollectionRecord]:
        """Collections of a database."""
        page_params(limit, offset)
        rows = self.action(
            "list_collections", tenant=tenant, database=database, limit=limit, offset=offset
        )
        return [CollectionRecord(**r) for r in rows]

    def count_collections(self, tenant: str, database: str) -> int:
        """Number of collections in a database."""
        return int(self.action("count_collections", tenant=tenant, database=database)["count"])

    def modify_collection(
        self,
        collection_id: str,
        name: str | None,
        metadata: dict[str, Any] | None,
        configuration: dict[str, Any] | None,
    ) -> CollectionRecord:
        """Rename, replace metadata, or change settable HNSW keys."""
        configuration = configuration or None  # as local mode: an empty one changes nothing
        check_configuration_type(configuration)
        if name is not None:
            check_name_types(collection=name)
        row = self.action(
            "modify_collection",
            collection_id=collection_id,
            name=name,
            metadata=metadata,
            configuration=configuration,
        )
        return CollectionRecord(**row)

    def delete_collection(self, name: str, tenant: str, database: str) -> None:
        """Delete a collection and its data."""
        check_name_types(collection=name, tenant=tenant, database=database)
        self.action("delete_collection", name=name, tenant=tenant, database=database)
