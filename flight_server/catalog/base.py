"""The system-database interface: DuckDB in local/single-node mode, PostgreSQL in distributed mode."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

DEFAULT_TENANT = "default_tenant"
DEFAULT_DATABASE = "default_database"


@dataclass(frozen=True)
class DatabaseRecord:
    """A database: a namespace of collections inside a tenant."""

    id: str
    name: str
    tenant: str


@dataclass(frozen=True)
class CollectionRecord:
    """A collection's catalog row."""

    id: str
    name: str
    tenant: str
    database: str
    dimension: int | None
    configuration: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] | None = None


@dataclass(frozen=True)
class VersionRecord:
    """An immutable index version: where its files are and which log seq it covers (inclusive)."""

    collection_id: str
    version: int
    path: str
    log_offset: int
    record_count: int


class Catalog(ABC):
    """Tenants > databases > collections, index versions and log positions."""

    # Tenants and databases ---------------------------------------------------------------
    @abstractmethod
    def create_tenant(self, name: str) -> None:
        """Create a tenant; UniqueConstraintError if it exists."""

    @abstractmethod
    def get_tenant(self, name: str) -> str:
        """The tenant's name; NotFoundError if missing."""

    @abstractmethod
    def create_database(self, name: str, tenant: str) -> DatabaseRecord:
        """Create a database in a tenant; NotFoundError for a missing tenant, UniqueConstraintError if it exists."""

    @abstractmethod
    def get_database(self, name: str, tenant: str) -> DatabaseRecord:
        """A database; NotFoundError if missing."""

    @abstractmethod
    def list_databases(
        self, tenant: str, limit: int | None = None, offset: int | None = None
    ) -> list[DatabaseRecord]:
        """Databases of a tenant ordered by creation."""

    @abstractmethod
    def delete_database(self, name: str, tenant: str) -> list[str]:
        """Delete a database and its collections; return the deleted collection ids."""

    # Collections ------------------------------------------------------------------------
    @abstractmethod
    def create_collection(
        self,
        name: str,
        tenant: str,
        database: str,
        configuration: dict[str, Any],
        metadata: dict[str, Any] | None,
        get_or_create: bool = False,
    ) -> tuple[CollectionRecord, bool]:
        """Create (or with get_or_create, fetch) a collection; return (record, created)."""

    @abstractmethod
    def get_collection(self, name: str, tenant: str, database: str) -> CollectionRecord:
        """A collection by name; NotFoundError 'Collection [name] does not exist'."""

    @abstractmethod
    def get_collection_by_id(self, collection_id: str) -> CollectionRecord:
        """A collection by id; NotFoundError if missing."""

    @abstractmethod
    def list_collections(
        self, tenant: str, database: str, limit: int | None = None, offset: int | None = None
    ) -> list[CollectionRecord]:
        """Collections of a database ordered by creation."""

    @abstractmethod
    def list_all_collections(self) -> list[CollectionRecord]:
        """Every collection of every tenant and database, ordered by creation."""

    @abstractmethod
    def count_collections(self, tenant: str, database: str) -> int:
        """Number of collections in a database."""

    @abstractmethod
    def update_collection(
        self,
        collection_id: str,
        name: str | None = None,
        metadata: dict[str, Any] | None = None,
        configuration: dict[str, Any] | None = None,
    ) -> CollectionRecord:
        """Rename and/or replace metadata/configuration; UniqueConstraintError on a taken name."""

    @abstractmethod
    def set_dimension(self, collection_id: str, dimension: int) -> int:
        """Fix the dimension if unset; return the collection's dimension afterwards."""

    @abstractmethod
    def delete_collection(self, name: str, tenant: str, database: str) -> str:
        """Delete a collection and its versions; return its id; NotFoundError if missing."""

    # Index versions ---------------------------------------------------------------------
    @abstractmethod
    def current_version(self, collection_id: str) -> VersionRecord | None:
        """The registered version serving the collection, or None before the first compaction."""

    @abstractmethod
    def register_version(self, new: VersionRecord, expected_version: int) -> None:
        """Make `new` current in one transaction if the current version number is still
        `expected_version` (0 for none) and `new.log_offset` does not go backwards; otherwise
        raise VersionConflictError and change nothing."""

    @abstractmethod
    def version_paths(self, collection_id: str) -> list[str]:
        """Paths of every version the catalog still references for a collection."""

    # Lifecycle --------------------------------------------------------------------------
    @abstractmethod
    def reset(self) -> None:
        """Delete every tenant, database, collection and version, then recreate the defaults."""

    @abstractmethod
    def close(self) -> None:
        """Close the connection."""
