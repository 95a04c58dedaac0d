"""A plain-Python evaluator of Chroma filters, written from the semantics, for checking the compiler.

It shares no code with `flight_server.executor.filters` / `filter_sql`, and expects filters that
passed validation. Regexes use Python's `re`; the generators only produce patterns on which `re`
and DuckDB's RE2 agree.
"""

from __future__ import annotations

import re
from typing import Any

_INT64_MAX = 2**63 - 1
_INT64_MIN = -(2**63)


def _as_int64(number: float) -> int:
    """A float operand as Chroma compares it with int values: truncated, clamped to int64."""
    if number >= 9223372036854775808.0:
        return _INT64_MAX
    if number <= -9223372036854775808.0:
        return _INT64_MIN
    return int(number)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        return "list"
    return "none"


def _comparable(stored: Any, operand: Any) -> tuple[Any, Any] | None:
    """(stored, operand) brought to one type when Chroma compares them at all, else None."""
    s, o = _kind(stored), _kind(operand)
    if s == o and s in ("bool", "str", "int", "float"):
        return stored, operand
    if s == "float" and o == "int":
        return stored, float(operand)
    if s == "int" and o == "float":
        return stored, _as_int64(operand)
    return None


def _test(stored: Any, op: str, operand: Any) -> bool:
    if op == "$in":
        return any(_test(stored, "$eq", item) for item in operand)
    if op == "$nin":
        return not _test(stored, "$in", operand)
    if op == "$ne":
        return not _test(stored, "$eq", operand)
    if op == "$contains":
        if not isinstance(stored, list):
            return False
        return any(_kind(item) == _kind(operand) and item == operand for item in stored)
    if op == "$not_contains":
        return not _test(stored, "$contains", operand)
    pair = _comparable(stored, operand)
    if pair is None:
        return False
    left, right = pair
    if op == "$eq":
        return bool(left == right)
    if op == "$gt":
        return bool(left > right)
    if op == "$gte":
        return bool(left >= right)
    if op == "$lt":
        return bool(left < right)
    if op == "$lte":
        return bool(left <= right)
    raise AssertionError(f"unknown operator {op}")


def _document_test(op: str, pattern: str, document: str | None) -> bool:
    if op == "$contains":
        return document is not None and pattern in document
    if op == "$not_contains":
        return not _document_test("$contains", pattern, document)
    if op == "$regex":
        return document is not None and re.search(pattern, document) is not None
    if op == "$not_regex":
        return not _document_test("$regex", pattern, document)
    raise AssertionError(f"unknown document operator {op}")


def _where(where: dict[str, Any], metadata: dict[str, Any], document: str | None) -> bool:
    [(key, value)] = where.items()
    if key == "$and":
        return all(_where(child, metadata, document) for child in value)
    if key == "$or":
        return any(_where(child, metadata, document) for child in value)
    if isinstance(value, dict):
        [(op, operand)] = value.items()
    else:
        op, operand = "$eq", value
    if key == "#document" and op in ("$contains", "$not_contains"):
        return _document_test(op, operand, document)
    return _test(metadata.get(key), op, operand)


def _where_document(where_document: dict[str, Any], document: str | None) -> bool:
    [(op, operand)] = where_document.items()
    if op == "$and":
        return all(_where_document(child, document) for child in operand)
    if op == "$or":
        return any(_where_document(child, document) for child in operand)
    return _document_test(op, operand, document)


def matches(
    where: dict[str, Any] | None,
    where_document: dict[str, Any] | None,
    metadata: dict[str, Any] | None,
    document: str | None,
) -> bool:
    """Whether a record with `metadata` and `document` passes both filters (None/{} pass all)."""
    if where and not _where(where, metadata or {}, document):
        return False
    return not where_document or _where_document(where_document, document)
