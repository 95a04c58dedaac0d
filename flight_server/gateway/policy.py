"""The authorization table: every operation the gateway serves, its role, rate bucket and quotas.

`OPERATIONS` is the single table, keyed by protocol-neutral operation names (Chroma's vocabulary:
add, query, create_collection, ...). A front maps its own requests onto these names: the Flight
front's map is `flight_server/flight/operations.py`. The gateway refuses a name not in this table,
so an operation added without a row cannot be called at all.
"""

from __future__ import annotations

from dataclasses import dataclass

READ, WRITE = "read", "write"
RECORDS_QUOTA = "max_records_per_collection"
COLLECTIONS_QUOTA = "max_collections_per_tenant"


@dataclass(frozen=True)
class Operation:
    """One gateway operation: the least role allowed, what must be visible, its bucket and quotas."""

    name: str
    role: str  # reader, writer or admin
    scope: str  # server, tenant, database or collection: what must be visible to the caller
    rate: str  # the tenant's rate bucket it draws on: read or write
    help: str
    quotas: tuple[str, ...] = ()  # settings checked before it runs


def _op(name: str, role: str, scope: str, help: str, quotas: tuple[str, ...] = ()) -> Operation:
    return Operation(name, role, scope, READ if role == "reader" else WRITE, help, quotas)


OPERATIONS: tuple[Operation, ...] = (
    _op("heartbeat", "reader", "server", "Server time in nanoseconds."),
    _op("version", "reader", "server", "FletchDB's version."),
    _op("limits", "reader", "server", "The server's request limits."),
    _op("reset", "admin", "server", "Delete everything (needs allow_reset)."),
    _op("create_tenant", "admin", "tenant", "Create a tenant."),
    _op("get_tenant", "reader", "tenant", "A tenant by name."),
    _op("create_database", "admin", "database", "Create a database."),
    _op("get_database", "reader", "database", "A database by name."),
    _op("list_databases", "reader", "tenant", "Databases of a tenant."),
    _op("delete_database", "admin", "database", "Delete a database."),
    _op("create_collection", "writer", "database", "Create a collection.", (COLLECTIONS_QUOTA,)),
    _op("get_collection", "reader", "database", "A collection by name."),
    _op("list_collections", "reader", "database", "Collections of a database."),
    _op("count_collections", "reader", "database", "Collections in a database."),
    _op("modify_collection", "writer", "collection", "Rename or re-configure."),
    _op("delete_collection", "writer", "database", "Delete a collection."),
    _op("count", "reader", "collection", "Records in a collection."),
    _op("compact", "writer", "collection", "Index the log tail now."),
    _op("stats", "reader", "collection", "Version, log offset, tail size."),
    _op("add", "writer", "collection", "Add records (existing ids ignored).", (RECORDS_QUOTA,)),
    _op("upsert", "writer", "collection", "Add or update records.", (RECORDS_QUOTA,)),
    _op("update", "writer", "collection", "Update existing records."),
    _op("delete", "writer", "collection", "Delete by ids and/or filters."),
    _op("get", "reader", "collection", "Records by ids and/or filters."),
    _op("query", "reader", "collection", "Nearest records per query embedding."),
    _op("export", "reader", "collection", "Every live record, streamed in batches."),
    _op("search", "reader", "collection", "Knn / Bm25 / Rrf ranked search."),
    _op("sql", "reader", "database", "Read-only DuckDB SQL over collections."),
    _op("list_visible_collections", "reader", "database", "Collections the caller may see."),
    _op("describe_collection", "reader", "database", "A collection's schema, count, endpoints."),
    _op("collection_schema", "reader", "database", "A collection's record schema."),
)

OPERATIONS_BY_NAME: dict[str, Operation] = {o.name: o for o in OPERATIONS}
