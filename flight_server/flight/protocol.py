"""Flight framing of the request bodies: which message carries which operation's arguments.

The bodies themselves (versioned JSON, fields, checks) are protocol-neutral and live in
`gateway/requests.py`; this module names them after the Flight messages that carry them (action
bodies, DoPut commands, DoGet tickets, DoExchange commands, ListFlights criteria). Its other names
are re-exported so `flight_server.flight.protocol` keeps working for the SDK and tests.
"""

from __future__ import annotations

from typing import Any

from ..errors import InvalidArgumentError
from ..gateway.requests import (
    ACTION_FIELDS,
    EMBEDDINGS_FIELD,
    EXPORT_FIELDS,
    GET_FIELDS,
    GET_INCLUDE,
    LIST_FIELDS,
    PROTOCOL_VERSION,
    QUERY_FIELDS,
    QUERY_INCLUDE,
    READ_FIELDS,
    SEARCH_FIELDS,
    SQL_FIELDS,
    WRITE_FIELDS,
    WRITE_OPS,
    Field,
    check_fields,
    check_include,
    check_write,
    encode,
    parse_body,
    request,
)
from .operations import TICKET_KINDS

PUT_FIELDS = WRITE_FIELDS

__all__ = [
    "ACTION_FIELDS",
    "EXPORT_FIELDS",
    "GET_FIELDS",
    "GET_INCLUDE",
    "LIST_FIELDS",
    "PROTOCOL_VERSION",
    "PUT_FIELDS",
    "QUERY_FIELDS",
    "QUERY_INCLUDE",
    "SEARCH_FIELDS",
    "SQL_FIELDS",
    "TICKET_KINDS",
    "WRITE_OPS",
    "Field",
    "check_fields",
    "encode",
    "parse_action",
    "parse_body",
    "parse_criteria",
    "parse_put_command",
    "parse_ticket",
    "request",
]


def parse_action(kind: str, body: bytes, max_bytes: int) -> dict[str, Any]:
    """The arguments of a DoAction call."""
    if kind not in ACTION_FIELDS:
        raise InvalidArgumentError(f"Unknown action {kind!r} (ListActions lists them)")
    obj = parse_body(body, f"{kind} action body", max_bytes, allow_empty=not ACTION_FIELDS[kind])
    return check_fields(obj, ACTION_FIELDS[kind], f"{kind} action body")


def parse_put_command(command: bytes, max_bytes: int) -> dict[str, Any]:
    """The DoPut command descriptor: op, collection_id and (delete only) filters."""
    obj = parse_body(command, "DoPut command", max_bytes)
    return check_write(check_fields(obj, WRITE_FIELDS, "DoPut command"))


def parse_ticket(ticket: bytes, max_bytes: int, embeddings_inline: bool = True) -> tuple[str, dict]:
    """A DoGet ticket (or DoExchange command): (get | query | export | search | sql, fields)."""
    what = "DoGet ticket" if embeddings_inline else "DoExchange command"
    obj = parse_body(ticket, what, max_bytes)
    kinds = [k for k in TICKET_KINDS if k in obj]
    if len(obj) != 1 or len(kinds) != 1 or not isinstance(obj[kinds[0]], dict):
        allowed = "query" if not embeddings_inline else " or ".join(TICKET_KINDS)
        raise InvalidArgumentError(f"The {what} must hold exactly one object: {allowed}")
    kind = kinds[0]
    if not embeddings_inline and kind != "query":
        raise InvalidArgumentError("DoExchange serves query only")
    spec = READ_FIELDS[kind]
    if kind == "query" and embeddings_inline:
        spec = {**spec, "embeddings": EMBEDDINGS_FIELD}
    return kind, check_include(kind, check_fields(obj[kind], spec, f"{kind} {what}"))


def parse_criteria(data: bytes, max_bytes: int) -> dict[str, Any]:
    """ListFlights criteria: empty, or {"v": 1, "tenant": ..., "database": ...}."""
    obj = parse_body(data, "ListFlights criteria", max_bytes, allow_empty=True)
    return check_fields(obj, LIST_FIELDS, "ListFlights criteria")
