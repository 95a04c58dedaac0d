"""The system database: tenants, databases, collections and index versions."""

from flight_server.catalog.base import (
    DEFAULT_DATABASE,
    DEFAULT_TENANT,
    Catalog,
    CollectionRecord,
    DatabaseRecord,
    VersionRecord,
)
from flight_server.catalog.duckdb_catalog import DEFAULT_DATABASE_ID, DuckDBCatalog

__all__ = [
    "DEFAULT_DATABASE",
    "DEFAULT_DATABASE_ID",
    "DEFAULT_TENANT",
    "Catalog",
    "CollectionRecord",
    "DatabaseRecord",
    "DuckDBCatalog",
    "VersionRecord",
]
