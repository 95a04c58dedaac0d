"""The system database: tenants, databases, collections and index versions.

`DuckDBCatalog` loads on first use (module `__getattr__`), so the record types, which the SDK
imports through `flight_server/api.py`, do not pull in DuckDB for a remote client.
"""

from typing import TYPE_CHECKING, Any

from flight_server.catalog.base import (
    DEFAULT_DATABASE,
    DEFAULT_TENANT,
    Catalog,
    CollectionRecord,
    DatabaseRecord,
    VersionRecord,
)

if TYPE_CHECKING:
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


def __getattr__(name: str) -> Any:
    if name in ("DuckDBCatalog", "DEFAULT_DATABASE_ID"):
        from flight_server.catalog import duckdb_catalog

        return getattr(duckdb_catalog, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
