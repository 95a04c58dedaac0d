"""The Flight front's map: each RPC with its action type, DoPut op or ticket kind -> an operation.

The gateway's policy (`gateway/policy.py`) knows operations by name only; this table is where the
Flight vocabulary meets it. `ListActions` lists the DoAction rows, with the gateway's help text.
"""

from __future__ import annotations

from ..gateway.policy import OPERATIONS_BY_NAME, Operation
from ..gateway.requests import ACTION_FIELDS, READ_FIELDS, WRITE_OPS

TICKET_KINDS = tuple(READ_FIELDS)
FLIGHT_OPERATIONS: dict[tuple[str, str], str] = {
    **{("DoAction", kind): kind for kind in ACTION_FIELDS},
    **{("DoPut", op): op for op in WRITE_OPS},
    **{("DoGet", kind): kind for kind in TICKET_KINDS},
    ("DoExchange", "query"): "query",
    ("ListFlights", "list_flights"): "list_visible_collections",
    ("GetFlightInfo", "flight_info"): "describe_collection",
    ("GetSchema", "schema"): "collection_schema",
}

ACTIONS: tuple[Operation, ...] = tuple(
    OPERATIONS_BY_NAME[name] for (rpc, name) in FLIGHT_OPERATIONS if rpc == "DoAction"
)


def operation(rpc: str, kind: str) -> str:
    """The operation name of one Flight call (an RPC and its action type, op or ticket kind)."""
    return FLIGHT_OPERATIONS[(rpc, kind)]
