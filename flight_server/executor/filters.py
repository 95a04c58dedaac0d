"""Chroma's `where` / `where_document` filters: validation (Chroma's messages) and parsing to a tree.

Validation runs in two passes, as in Chroma 1.5.9: first the checks of the Python client
(`chromadb/api/types.py` validate_where / validate_where_document, same order, same messages), then
the checks of Chroma's Rust parser (`rust/types/src/where_parsing.rs`), which answer "Invalid where
clause" or a regex syntax error. The parsed tree (`Compare`, `DocMatch`, `Logical`) is what
`filter_sql.compile_filter` turns into SQL.

Semantics (each confirmed by running chromadb 1.5.9 unless marked "decision"):
- Every filter dict, at every level, has exactly one key; `$and`/`$or` take a list of at least two
  sub-filters; where and where_document are ANDed. `{}` is rejected by validation, as in Chroma
  (compile_filter treats None and `{}` as "no filter").
- `{"k": v}` is `{"k": {"$eq": v}}`; v is str, int, float or bool.
- Types are strict: a bool never equals an int, a str only equals a str.
- Numbers: an int operand is compared with float values as `float(i)`; a float operand is compared
  with int values as `int(f)` truncated toward zero and saturated to int64 (Chroma's `f as i64` in its
  SQLite metadata reader), so `{"k": 1.5}` matches int 1 and `{"k": {"$lt": 1.5}}` does not.
- `$ne`, `$nin` and metadata `$not_contains` match records that lack the key (or hold it with another
  type or as a list); they are the exact negation of `$eq`, `$in`, `$contains`.
- Scalar operators (`$eq $ne $gt $gte $lt $lte $in $nin`) never look inside list values;
  `$contains`/`$not_contains` on a metadata key look only inside list values, type-strictly (an int
  list does not contain 1.0, a float list does not contain 1).
- where_document `$contains` is a case-sensitive substring test (`%` and `_` are literal); `$regex`
  is a regular expression searched anywhere in the document. Records without a document match
  `$not_contains`/`$not_regex` and never `$contains`/`$regex`.
- `{"#document": {"$contains"|"$not_contains": s}}` inside `where` is a document test (an empty
  string is allowed there); string comparisons on `#document` are rejected as Chroma does ("indexing
  is disabled"); other comparisons treat `#document` as an ordinary metadata key.
- Keys starting with `$` other than `$and`/`$or`, non-finite float operands and ints in
  [2**63, 2**64) are "Invalid where clause"; larger ints become floats (Chroma parses them from JSON).
- Decision: regexes run on DuckDB's RE2, Chroma uses Rust's `regex`. The syntax is nearly the same
  (both reject look-around and backreferences); differences: `\\d \\w \\s \\b` are ASCII-only in
  RE2 (Unicode in Rust) and RE2 rejects the `u` flag. Syntax errors read "Regex syntax errror: ..."
  (Chroma's spelling) with RE2's description.
- Decision: `count_predicates` counts leaf comparisons of where plus where_document; `$and`/`$or`
  are free and an `$in`/`$nin` list counts once whatever its length.
- Chroma's collection methods append " in get." / " in query." to these messages; callers do that.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..errors import InvalidArgumentError, QuotaError, quote_input

Scalar = str | int | float | bool

RANGE_OPS = ("$gt", "$gte", "$lt", "$lte")
SET_OPS = ("$in", "$nin")
CONTAINS_OPS = ("$contains", "$not_contains")
WHERE_OPS = (*RANGE_OPS, "$ne", "$eq", *SET_OPS, *CONTAINS_OPS)
LOGICAL_OPS = ("$and", "$or")
DOCUMENT_OPS = ("$contains", "$not_contains", "$regex", "$not_regex")
DOCUMENT_KEY = "#document"
INVALID_WHERE = "Invalid where clause"
_INT64 = (-(2**63), 2**63 - 1)


@dataclass(frozen=True)
class Compare:
    """A metadata comparison: `key` `op` `value` (a tuple for `$in`/`$nin`)."""

    key: str
    op: str
    value: Scalar | tuple[Scalar, ...]


@dataclass(frozen=True)
class DocMatch:
    """A document test: `$contains`, `$not_contains`, `$regex` or `$not_regex` with `pattern`."""

    op: str
    pattern: str


@dataclass(frozen=True)
class Logical:
    """`$and` / `$or` over child filters."""

    op: str
    children: tuple[Node, ...]


Node = Compare | DocMatch | Logical


def _fail(message: str) -> InvalidArgumentError:
    return InvalidArgumentError(message)


# Pass 1: the Python client's checks -------------------------------------------------------------
def _client_check_where(where: Any) -> None:
    if not isinstance(where, dict):
        raise _fail(f"Expected where to be a dict, got {where}")
    if len(where) != 1:
        raise _fail(f"Expected where to have exactly one operator, got {where}")
    for key, value in where.items():
        if not isinstance(key, str):
            raise _fail(f"Expected where key to be a str, got {key}")
        if key in CONTAINS_OPS:
            raise _fail(
                "Expected where key to be a metadata field name or a logical operator ($and, $or), "
                f"got {key}"
            )
        if key not in (*LOGICAL_OPS, *SET_OPS) and not isinstance(value, str | int | float | dict):
            raise _fail(
                f"Expected where value to be a str, int, float, or operator expression, got {value}"
            )
        if key in LOGICAL_OPS:
            if not isinstance(value, list):
                raise _fail(
                    f"Expected where value for $and or $or to be a list of where expressions, got {value}"
                )
            if len(value) <= 1:
                raise _fail(
                    "Expected where value for $and or $or to be a list with at least two where "
                    f"expressions, got {value}"
                )
            for child in value:
                _client_check_where(child)
        if isinstance(value, dict):
            _client_check_operator(key, value)


def _client_check_operator(key: str, expression: dict[Any, Any]) -> None:
    if len(expression) != 1:
        raise _fail(f"Expected operator expression to have exactly one operator, got {expression}")
    for operator, operand in expression.items():
        if operator in RANGE_OPS and not isinstance(operand, int | float):
            raise _fail(
                f"Expected operand value to be an int or a float for operator {operator}, got {operand}"
            )
        if operator in SET_OPS and not isinstance(operand, list):
            raise _fail(
                f"Expected operand value to be an list for operator {operator}, got {operand}"
            )
        if operator in CONTAINS_OPS:
            if key == DOCUMENT_KEY and not isinstance(operand, str):
                raise _fail(
                    f"Expected operand value to be a str for operator {operator} on #document, "
                    f"got {operand}"
                )
            if not isinstance(operand, str | int | float | bool):
                raise _fail(
                    "Expected operand value to be a str, int, float, or bool for operator "
                    f"{operator}, got {operand}"
                )
        if operator not in WHERE_OPS:
            raise _fail(
                "Expected where operator to be one of $gt, $gte, $lt, $lte, $ne, $eq, $in, $nin, "
                f"$contains, $not_contains, got {operator}"
            )
        if not isinstance(operand, str | int | float | bool | list):
            raise _fail(
                "Expected where operand value to be a str, int, float, bool, or list of those type, "
                f"got {operand}"
            )
        if isinstance(operand, list) and (
            len(operand) == 0 or not all(isinstance(x, type(operand[0])) for x in operand)
        ):
            raise _fail(
                "Expected where operand value to be a non-empty list, and all values to be of the "
                f"same type got {operand}"
            )


def _client_check_where_document(where_document: Any) -> None:
    if not isinstance(where_document, dict):
        raise _fail(f"Expected where document to be a dictionary, got {where_document}")
    if len(where_document) != 1:
        raise _fail(f"Expected where document to have exactly one operator, got {where_document}")
    for operator, operand in where_document.items():
        if operator not in (*DOCUMENT_OPS, *LOGICAL_OPS):
            raise _fail(
                "Expected where document operator to be one of $contains, $not_contains, $regex, "
                f"$not_regex, $and, $or, got {operator}"
            )
        if operator in LOGICAL_OPS:
            if not isinstance(operand, list):
                raise _fail(
                    "Expected document value for $and or $or to be a list of where document "
                    f"expressions, got {operand}"
                )
            if len(operand) <= 1:
                raise _fail(
                    "Expected document value for $and or $or to be a list with at least two where "
                    f"document expressions, got {operand}"
                )
            for child in operand:
                _client_check_where_document(child)
        elif not isinstance(operand, str):
            raise _fail(
                f"Expected where document operand value for operator {operator} to be a str, "
                f"got {operand}"
            )
        elif len(operand) == 0:
            raise _fail(
                f"Expected where document operand value for operator {operator} to be a non-empty str"
            )


# Pass 2: Chroma's Rust parser -------------------------------------------------------------------
def _scalar(value: Any) -> Scalar:
    """A JSON-representable scalar as Chroma's parser reads it, or "Invalid where clause"."""
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        if _INT64[0] <= value <= _INT64[1]:
            return int(value)
        if 0 <= value < 2**64:  # serde_json: a u64, which the parser refuses
            raise _fail(INVALID_WHERE)
        try:
            value = float(value)  # larger ints arrive as JSON floats
        except OverflowError:  # past float's range: JSON would make it an infinity
            raise _fail(INVALID_WHERE) from None
    if isinstance(value, float) and math.isfinite(value):
        return float(value)
    raise _fail(INVALID_WHERE)


def _kind(value: Scalar) -> type:
    return bool if isinstance(value, bool) else type(value)


def _no_string_index(key: str, value: Scalar) -> None:
    if key == DOCUMENT_KEY and isinstance(value, str):
        raise _fail(
            "Cannot filter using metadata key '#document' with type 'Str' because indexing is disabled"
        )


def _parse_where(where: dict[str, Any]) -> Node:
    ((key, value),) = where.items()
    if key in LOGICAL_OPS:
        return Logical(key, tuple(_parse_where(child) for child in value))
    if key.startswith("$"):
        raise _fail(INVALID_WHERE)
    if not isinstance(value, dict):
        scalar = _scalar(value)
        _no_string_index(key, scalar)
        return Compare(key, "$eq", scalar)
    ((op, operand),) = value.items()
    if isinstance(operand, list):
        if op not in SET_OPS:
            raise _fail(INVALID_WHERE)
        values = tuple(_scalar(x) for x in operand)
        if _kind(values[0]) is float:  # the parser reads every number of a float list as f64
            values = tuple(float(v) if _kind(v) is int else v for v in values)
        if any(_kind(v) is not _kind(values[0]) for v in values):
            raise _fail(INVALID_WHERE)
        _no_string_index(key, values[0])
        return Compare(key, op, values)
    scalar = _scalar(operand)
    if op in CONTAINS_OPS:
        if key == DOCUMENT_KEY:
            return DocMatch(op, str(scalar))
        return Compare(key, op, scalar)
    allowed = ("$eq", "$ne") if isinstance(scalar, str | bool) else ("$eq", "$ne", *RANGE_OPS)
    if op not in allowed:
        raise _fail(INVALID_WHERE)
    _no_string_index(key, scalar)
    return Compare(key, op, scalar)


def _parse_where_document(where_document: dict[str, Any]) -> Node:
    ((op, operand),) = where_document.items()
    if op in LOGICAL_OPS:
        return Logical(op, tuple(_parse_where_document(child) for child in operand))
    if op in ("$regex", "$not_regex"):
        _check_regex(operand)
    return DocMatch(op, operand)


_regex_lock = threading.Lock()
_regex_con: Any = None


@lru_cache(maxsize=1024)
def _regex_error(pattern: str) -> str | None:
    """RE2's complaint about `pattern` (the engine that runs it), or None when it compiles."""
    global _regex_con
    import duckdb

    with _regex_lock:
        if _regex_con is None:
            _regex_con = duckdb.connect(
                config={
                    "autoinstall_known_extensions": "false",
                    "autoload_known_extensions": "false",
                }
            )
        try:
            _regex_con.execute("SELECT regexp_matches('', ?)", [pattern]).fetchall()
        except duckdb.Error as exc:
            return str(exc).removeprefix("Invalid Input Error: ")
    return None


def _check_regex(pattern: str) -> None:
    error = _regex_error(pattern)
    if error is not None:
        pattern, error = quote_input(pattern), quote_input(error)  # a pattern may be megabytes
        raise _fail(f"Regex syntax errror: regex parse error:\n    {pattern}\nerror: {error}")


# Public API -------------------------------------------------------------------------------------
def parse_where(where: Any) -> Node:
    """Validate a `where` filter as Chroma does and return its tree."""
    _client_check_where(where)
    return _parse_where(where)


def parse_where_document(where_document: Any) -> Node:
    """Validate a `where_document` filter as Chroma does and return its tree."""
    _client_check_where_document(where_document)
    return _parse_where_document(where_document)


@dataclass(frozen=True)
class Filters:
    """One request's `where` and `where_document`, validated and parsed once (None: absent)."""

    where: Node | None = None
    document: Node | None = None

    def __bool__(self) -> bool:
        return self.where is not None or self.document is not None


NO_FILTERS = Filters()


def parse_filters(where: Any, where_document: Any) -> Filters:
    """Both filters parsed; None and `{}` mean no filter, as in `compile_filter`."""
    return Filters(
        parse_where(where) if where else None,
        parse_where_document(where_document) if where_document else None,
    )


def validate_where(where: Any) -> None:
    """Raise InvalidArgumentError (Chroma's message) unless `where` is a valid filter."""
    parse_where(where)


def validate_where_document(where_document: Any) -> None:
    """Raise InvalidArgumentError (Chroma's message) unless `where_document` is a valid filter."""
    parse_where_document(where_document)


def _count(node: Any) -> int:
    if not isinstance(node, dict) or not node:
        return 0
    ((key, value),) = list(node.items())[:1]
    if key in LOGICAL_OPS and isinstance(value, list):
        return sum(_count(child) for child in value)
    return 1


def count_predicates(where: Any, where_document: Any) -> int:
    """Leaf comparisons in `where` plus `where_document` (`$and`/`$or` are not counted)."""
    return _count(where) + _count(where_document)


def filter_depth(node: Any) -> int:
    """How many filter objects nest in `node` ({"n": 1} is 1; lists add none); iterative."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth) for child in item)
    return deepest


def check_depth_limit(where: Any, where_document: Any, maximum: int) -> None:
    """Raise QuotaError when a filter nests deeper than `maximum` (checked before any recursion)."""
    depth = max(filter_depth(where), filter_depth(where_document))
    if depth > maximum:
        raise QuotaError("max_where_depth", depth, maximum, "Nesting depth of the filter")


def check_predicate_limit(where: Any, where_document: Any, maximum: int) -> None:
    """Raise QuotaError when the filters hold more than `maximum` predicates."""
    count = count_predicates(where, where_document)
    if count > maximum:
        raise QuotaError("max_where_predicates", count, maximum, "Number of where predicates")
