"""The authorization table: every operation the gateway serves, the role it needs, and its help.

`OPERATIONS` is the single list: DoAction names, DoPut ops, DoGet/DoExchange ticket kinds and the
flight-listing calls. ListActions is generated from it and the access-matrix test iterates it, so an
operation added without a row here cannot be called at all (the gateway refuses unknown names).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Operation:
    """One gateway operation: how it is called, the least role allowed, and what it does."""

    name: str
    rpc: str  # DoAction, DoPut, DoGet, DoExchange, ListFlights, GetFlightInfo, GetSchema
    role: str  # reader, writer or admin
    scope: str  # server, tenant, database or collection: what must be visible to the caller
    help: str


OPERATIONS: tuple[Operation, ...] = (
    Operation("heartbeat", "DoAction", "reader", "server", "Server time in nanoseconds."),
    Operation("version", "DoAction", "reader", "server", "FletchDB's version."),
    Operation("limits", "DoAction", "reader", "server", "The server's request limits."),
    Operation("reset", "DoAction", "admin", "server", "Delete everything (needs allow_reset)."),
    Operation("create_tenant", "DoAction", "admin", "tenant", "Create a tenant."),
    Operation("get_tenant", "DoAction", "reader", "tenant", "A tenant by name."),
    Operation("create_database", "DoAction", "admin", "database", "Create a database."),
    Operation("get_database", "DoAction", "reader", "database", "A database by name."),
    Operation("list_databases", "DoAction", "reader", "tenant", "Databases of a tenant."),
    Operation("delete_database", "DoAction", "admin", "database", "Delete a database."),
    Operation("create_collection", "DoAction", "writer", "database", "Create a collection."),
    Operation("get_collection", "DoAction", "reader", "database", "A collection by name."),
    Operation("list_collections", "DoAction", "reader", "database", "Collections of a database."),
    Operation("count_collections", "DoAction", "reader", "database", "Collections in a database."),
    Operation("modify_collection", "DoAction", "writer", "collection", "Rename or re-configure."),
    Operation("delete_collection", "DoAction", "writer", "database", "Delete a collection."),
    Operation("count", "DoAction", "reader", "collection", "Records in a collection."),
    Operation("compact", "DoAction", "writer", "collection", "Index the log tail now."),
    Operation("stats", "DoAction", "reader", "collection", "Version, log offset, tail size."),
    Operation("add", "DoPut", "writer", "collection", "Add records (existing ids ignored)."),
    Operation("upsert", "DoPut", "writer", "collection", "Add or update records."),
    Operation("update", "DoPut", "writer", "collection", "Update existing records."),
    Operation("delete", "DoPut", "writer", "collection", "Delete by ids and/or filters."),
    Operation("get", "DoGet", "reader", "collection", "Records by ids and/or filters."),
    Operation("query", "DoGet", "reader", "collection", "Nearest records per query embedding."),
    Operation("export", "DoGet", "reader", "collection", "Every live record, streamed in batches."),
    Operation("query", "DoExchange", "reader", "collection", "Query with Arrow embeddings."),
    Operation("search", "DoGet", "reader", "collection", "Knn / Bm25 / Rrf ranked search."),
    Operation("sql", "DoGet", "reader", "database", "Read-only DuckDB SQL over collections."),
    Operation("list_flights", "ListFlights", "reader", "database", "Visible collections."),
    Operation("flight_info", "GetFlightInfo", "reader", "database", "Schema, count, endpoints."),
    Operation("schema", "GetSchema", "reader", "database", "A collection's record schema."),
)

OPERATIONS_BY_KEY: dict[tuple[str, str], Operation] = {(o.rpc, o.name): o for o in OPERATIONS}
ACTIONS: tuple[Operation, ...] = tuple(o for o in OPERATIONS if o.rpc == "DoAction")


def is_write(op: Operation) -> bool:
    """Whether the operation draws on the tenant's write rate limit (else the read one)."""
    return op.rpc == "DoPut" or (op.rpc == "DoAction" and op.role != "reader")
