"""DoAction dispatch: each action's parsed arguments to one gateway call, its result as JSON."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..catalog.base import CollectionRecord, DatabaseRecord
from ..gateway.auth import Principal
from ..gateway.gateway import Gateway


def collection_json(record: CollectionRecord) -> dict[str, Any]:
    """A collection's catalog row as JSON."""
    return {
        "id": record.id,
        "name": record.name,
        "tenant": record.tenant,
        "database": record.database,
        "dimension": record.dimension,
        "configuration": record.configuration,
        "metadata": record.metadata,
    }


def database_json(record: DatabaseRecord) -> dict[str, Any]:
    """A database as JSON."""
    return {"id": record.id, "name": record.name, "tenant": record.tenant}


Runner = Callable[[Gateway, Principal, dict[str, Any]], Any]

RUNNERS: dict[str, Runner] = {
    "heartbeat": lambda g, w, a: {"nanosecond heartbeat": g.heartbeat(w)},
    "version": lambda g, w, a: {"version": g.version(w)},
    "limits": lambda g, w, a: g.limits(w),
    "reset": lambda g, w, a: g.reset(w),
    "create_tenant": lambda g, w, a: g.create_tenant(w, a["name"]),
    "get_tenant": lambda g, w, a: {"name": g.get_tenant(w, a["name"])},
    "create_database": lambda g, w, a: database_json(g.create_database(w, a["name"], a["tenant"])),
    "get_database": lambda g, w, a: database_json(g.get_database(w, a["name"], a["tenant"])),
    "list_databases": lambda g, w, a: [
        database_json(d) for d in g.list_databases(w, a["tenant"], a["limit"], a["offset"])
    ],
    "delete_database": lambda g, w, a: g.delete_database(w, a["name"], a["tenant"]),
    "create_collection": lambda g, w, a: collection_json(
        g.create_collection(
            w,
            a["name"],
            a["configuration"],
            a["metadata"],
            a["get_or_create"],
            a["tenant"],
            a["database"],
        )
    ),
    "get_collection": lambda g, w, a: collection_json(
        g.get_collection(w, a["name"], a["tenant"], a["database"])
    ),
    "list_collections": lambda g, w, a: [
        collection_json(c)
        for c in g.list_collections(w, a["tenant"], a["database"], a["limit"], a["offset"])
    ],
    "count_collections": lambda g, w, a: {
        "count": g.count_collections(w, a["tenant"], a["database"])
    },
    "modify_collection": lambda g, w, a: collection_json(
        g.modify_collection(w, a["collection_id"], a["name"], a["metadata"], a["configuration"])
    ),
    "delete_collection": lambda g, w, a: g.delete_collection(
        w, a["name"], a["tenant"], a["database"]
    ),
    "count": lambda g, w, a: {"count": g.count(w, a["collection_id"])},
    "compact": lambda g, w, a: {"versions_built": g.compact(w, a["collection_id"])},
    "stats": lambda g, w, a: g.stats(w, a["collection_id"]),
}


def run_action(gateway: Gateway, who: Principal, name: str, args: dict[str, Any]) -> Any:
    """The JSON result of one action (null for actions that return nothing)."""
    return RUNNERS[name](gateway, who, args)
