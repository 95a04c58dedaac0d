"""Request arguments of every operation: versioned JSON bodies, parsed and checked strictly.

Protocol-neutral: any front that takes FletchDB's JSON bodies parses them here. Every body is a
JSON object with `"v": 1`. Parsing refuses what is not exactly that: bytes that are not UTF-8 JSON,
duplicate keys, NaN/Infinity, a missing or unknown version, unknown keys, and values of the wrong
type. Nothing is ever evaluated (no eval, literal_eval or pickle). Every refusal is an
InvalidArgumentError naming the field. docs/protocol.md documents these shapes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidArgumentError, QuotaError

PROTOCOL_VERSION = 1
WRITE_OPS = ("add", "upsert", "update", "delete")
GET_INCLUDE = frozenset({"documents", "embeddings", "metadatas"})
QUERY_INCLUDE = GET_INCLUDE | {"distances"}

Check = Callable[[Any], bool]


@dataclass(frozen=True)
class Field:
    """One field of a request body: its JSON type check, a description, and whether required."""

    check: Check
    kind: str
    required: bool = False
    default: Any = None


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _opt(check: Check) -> Check:
    return lambda v: v is None or check(v)


STR: Check = lambda v: isinstance(v, str)  # noqa: E731
BOOL: Check = lambda v: isinstance(v, bool)  # noqa: E731
OBJ: Check = lambda v: isinstance(v, dict)  # noqa: E731
NAT: Check = lambda v: _is_int(v) and v >= 0  # noqa: E731
POS: Check = lambda v: _is_int(v) and v > 0  # noqa: E731
STR_LIST: Check = lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v)  # noqa: E731
MATRIX: Check = lambda v: (  # noqa: E731
    isinstance(v, list)
    and all(isinstance(r, list) and all(_is_int(x) or isinstance(x, float) for x in r) for r in v)
)

_REQ_STR = Field(STR, "a string", True)
_COLLECTION = {"collection_id": _REQ_STR}
_SCOPE = {"tenant": _REQ_STR, "database": _REQ_STR}
_PAGE = {
    "limit": Field(_opt(NAT), "null or an int >= 0"),
    "offset": Field(_opt(NAT), "null or an int >= 0"),
}
_FILTERS = {
    "where": Field(_opt(OBJ), "null or an object"),
    "where_document": Field(_opt(OBJ), "null or an object"),
}
_READ = {
    **_COLLECTION,
    **_FILTERS,
    "ids": Field(_opt(STR_LIST), "null or a list of strings"),
}
_INCLUDE = Field(_opt(STR_LIST), "null or a list of strings")

# Catalog and server operations, by operation name.
ACTION_FIELDS: dict[str, dict[str, Field]] = {
    "heartbeat": {},
    "version": {},
    "limits": {},
    "reset": {},
    "create_tenant": {"name": _REQ_STR},
    "get_tenant": {"name": _REQ_STR},
    "create_database": {"name": _REQ_STR, "tenant": _REQ_STR},
    "get_database": {"name": _REQ_STR, "tenant": _REQ_STR},
    "list_databases": {"tenant": _REQ_STR, **_PAGE},
    "delete_database": {"name": _REQ_STR, "tenant": _REQ_STR},
    "create_collection": {
        "name": _REQ_STR,
        **_SCOPE,
        "configuration": Field(_opt(OBJ), "null or an object"),
        "metadata": Field(_opt(OBJ), "null or an object"),
        "get_or_create": Field(BOOL, "a boolean", default=False),
    },
    "get_collection": {"name": _REQ_STR, **_SCOPE},
    "list_collections": {**_SCOPE, **_PAGE},
    "count_collections": dict(_SCOPE),
    "modify_collection": {
        **_COLLECTION,
        "name": Field(_opt(STR), "null or a string"),
        "metadata": Field(_opt(OBJ), "null or an object"),
        "configuration": Field(_opt(OBJ), "null or an object"),
    },
    "delete_collection": {"name": _REQ_STR, **_SCOPE},
    "count": dict(_COLLECTION),
    "compact": dict(_COLLECTION),
    "stats": dict(_COLLECTION),
}
# A write names its op among these fields: one body shape for the four write operations.
WRITE_FIELDS: dict[str, Field] = {
    "op": Field(lambda v: v in WRITE_OPS, f"one of {', '.join(WRITE_OPS)}", True),
    **_COLLECTION,
    **_FILTERS,
}
GET_FIELDS: dict[str, Field] = {**_READ, **_PAGE, "include": _INCLUDE}
QUERY_FIELDS: dict[str, Field] = {
    **_READ,
    "n_results": Field(POS, "an int > 0", True),
    "include": _INCLUDE,
}
EMBEDDINGS_FIELD = Field(MATRIX, "a list of lists of numbers", True)
EXPORT_FIELDS: dict[str, Field] = {
    **_COLLECTION,
    "batch_rows": Field(_opt(POS), "null or an int > 0"),
}
SEARCH_FIELDS: dict[str, Field] = {
    **_COLLECTION,
    "searches": Field(
        lambda v: isinstance(v, list) and all(isinstance(x, dict) for x in v),
        "a list of search objects (docs/search.md)",
        True,
    ),
}
SQL_FIELDS: dict[str, Field] = {
    "query": _REQ_STR,
    "params": Field(_opt(lambda v: isinstance(v, list | dict)), "null, a list or an object"),
    **_SCOPE,
}
# Read operations, by operation name (query without its embeddings: they may travel apart).
READ_FIELDS: dict[str, dict[str, Field]] = {
    "get": GET_FIELDS,
    "query": QUERY_FIELDS,
    "export": EXPORT_FIELDS,
    "search": SEARCH_FIELDS,
    "sql": SQL_FIELDS,
}
LIST_FIELDS: dict[str, Field] = {
    "tenant": Field(_opt(STR), "null or a string"),
    "database": Field(_opt(STR), "null or a string"),
}


def _no_constants(name: str) -> Any:
    raise InvalidArgumentError(f"{name} is not valid JSON here")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise InvalidArgumentError(f"Duplicate key {key!r} in request JSON")
        out[key] = value
    return out


def parse_body(data: bytes, what: str, max_bytes: int, allow_empty: bool = False) -> dict[str, Any]:
    """A request body as a JSON object of protocol version 1 (the `v` key removed)."""
    if len(data) > max_bytes:
        raise QuotaError("max_request_bytes", len(data), max_bytes, f"Bytes of the {what}")
    if allow_empty and not data.strip():
        return {}
    try:
        obj = json.loads(
            data.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constants
        )
    except InvalidArgumentError:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InvalidArgumentError(f"The {what} is not valid UTF-8 JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise InvalidArgumentError(f"The {what} must be a JSON object, got {type(obj).__name__}")
    version = obj.pop("v", None)
    if version != PROTOCOL_VERSION or isinstance(version, bool):
        raise InvalidArgumentError(
            f'The {what} must carry "v": {PROTOCOL_VERSION}, got {version!r}'
        )
    return obj


def check_fields(obj: dict[str, Any], spec: dict[str, Field], what: str) -> dict[str, Any]:
    """The fields of `obj` by `spec` (absent optional ones as None); refuses unknown or mistyped."""
    unknown = sorted(set(obj) - set(spec))
    if unknown:
        raise InvalidArgumentError(f"Unknown field(s) in the {what}: {', '.join(unknown)}")
    out: dict[str, Any] = {}
    for name, field in spec.items():
        if name not in obj:
            if field.required:
                raise InvalidArgumentError(f"The {what} needs the field {name!r} ({field.kind})")
            out[name] = field.default
            continue
        value = obj[name]
        if not field.check(value):
            raise InvalidArgumentError(
                f"Field {name!r} of the {what} must be {field.kind}, got {_short(value)}"
            )
        out[name] = value
    return out


def check_write(args: dict[str, Any]) -> dict[str, Any]:
    """Checked write arguments: only delete takes filters."""
    if args["op"] != "delete" and (args["where"] is not None or args["where_document"] is not None):
        raise InvalidArgumentError(f"Only delete takes where/where_document, not {args['op']}")
    return args


def check_include(operation: str, args: dict[str, Any]) -> dict[str, Any]:
    """Checked read arguments: get and query name only the parts they can return."""
    if operation not in ("get", "query"):
        return args
    allowed = GET_INCLUDE if operation == "get" else QUERY_INCLUDE
    include = args["include"]
    if include is not None and not set(include) <= allowed:
        bad = sorted(set(include) - allowed)
        raise InvalidArgumentError(
            f"include of a {operation} may name {', '.join(sorted(allowed))}; got {bad}"
        )
    return args


def get_arguments(args: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments of Gateway.get from checked get fields (default include applied)."""
    include = args["include"] if args["include"] is not None else ["documents", "metadatas"]
    keys = ("ids", "where", "where_document", "limit", "offset")
    return {**{k: args[k] for k in keys}, "columns": set(include)}


def query_arguments(args: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments of Gateway.query from checked query fields (default include applied)."""
    include = args["include"]
    if include is None:
        include = ["documents", "metadatas", "distances"]
    keys = ("n_results", "where", "where_document", "ids")
    return {**{k: args[k] for k in keys}, "columns": set(include) - {"distances"}}


def encode(obj: Any) -> bytes:
    """A response or request body as compact UTF-8 JSON (with "v" added to request objects)."""
    return json.dumps(obj, separators=(",", ":"), allow_nan=False).encode()


def request(**fields: Any) -> bytes:
    """A request body of this protocol version."""
    return encode({"v": PROTOCOL_VERSION, **fields})


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."
