"""Filter validation gives Chroma 1.5.9's errors (messages observed by running it, less " in get.")."""

from __future__ import annotations

import re
from typing import Any

import pytest

from flight_server.errors import InvalidArgumentError, QuotaError
from flight_server.executor.filter_sql import compile_filter
from flight_server.executor.filters import (
    check_predicate_limit,
    count_predicates,
    validate_where,
    validate_where_document,
)

INVALID = "Invalid where clause"
NO_INDEX = (
    "Cannot filter using metadata key '#document' with type 'Str' because indexing is disabled"
)
OPERATORS = "$gt, $gte, $lt, $lte, $ne, $eq, $in, $nin, $contains, $not_contains"
SAME_TYPE = (
    "Expected where operand value to be a non-empty list, and all values to be of the same type got"
)

INVALID_WHERE: list[tuple[Any, str]] = [
    ("abc", "Expected where to be a dict, got abc"),
    ({}, "Expected where to have exactly one operator, got {}"),
    (
        {"k": 1, "other": 1},
        "Expected where to have exactly one operator, got {'k': 1, 'other': 1}",
    ),
    ({1: 2}, "Expected where key to be a str, got 1"),
    (
        {"$contains": "a"},
        "Expected where key to be a metadata field name or a logical operator ($and, $or), got $contains",
    ),
    ({"k": None}, "Expected where value to be a str, int, float, or operator expression, got None"),
    ({"k": [1]}, "Expected where value to be a str, int, float, or operator expression, got [1]"),
    (
        {"$and": {"k": 1}},
        "Expected where value for $and or $or to be a list of where expressions, got {'k': 1}",
    ),
    (
        {"$and": []},
        "Expected where value for $and or $or to be a list with at least two where expressions, got []",
    ),
    (
        {"$or": [{"k": 1}]},
        "Expected where value for $and or $or to be a list with at least two where expressions, "
        "got [{'k': 1}]",
    ),
    ({"$and": [1, 2]}, "Expected where to be a dict, got 1"),
    ({"$or": [{"k": 1}, {}]}, "Expected where to have exactly one operator, got {}"),
    (
        {"k": {"$eq": 1, "$ne": 2}},
        "Expected operator expression to have exactly one operator, got {'$eq': 1, '$ne': 2}",
    ),
    ({"k": {}}, "Expected operator expression to have exactly one operator, got {}"),
    ({"k": {"$gt": "a"}}, "Expected operand value to be an int or a float for operator $gt, got a"),
    (
        {"k": {"$lte": None}},
        "Expected operand value to be an int or a float for operator $lte, got None",
    ),
    ({"k": {"$in": 1}}, "Expected operand value to be an list for operator $in, got 1"),
    ({"k": {"$nin": "a"}}, "Expected operand value to be an list for operator $nin, got a"),
    (
        {"k": {"$contains": [1]}},
        "Expected operand value to be a str, int, float, or bool for operator $contains, got [1]",
    ),
    (
        {"#document": {"$contains": 1}},
        "Expected operand value to be a str for operator $contains on #document, got 1",
    ),
    ({"k": {"$foo": 1}}, f"Expected where operator to be one of {OPERATORS}, got $foo"),
    ({"k": {1: 2}}, f"Expected where operator to be one of {OPERATORS}, got 1"),
    ({"k": {"$regex": "a"}}, f"Expected where operator to be one of {OPERATORS}, got $regex"),
    (
        {"k": {"$eq": None}},
        "Expected where operand value to be a str, int, float, bool, or list of those type, got None",
    ),
    ({"k": {"$in": []}}, f"{SAME_TYPE} []"),
    ({"k": {"$in": [1, "a"]}}, f"{SAME_TYPE} [1, 'a']"),
    ({"k": {"$nin": [1.5, 1]}}, f"{SAME_TYPE} [1.5, 1]"),
    ({"k": {"$in": [True, 1]}}, f"{SAME_TYPE} [True, 1]"),
    # Accepted by Chroma's Python client, refused by its Rust parser.
    ({"k": {"$gt": True}}, INVALID),
    ({"k": {"$in": [1, True]}}, INVALID),
    ({"k": {"$eq": [1]}}, INVALID),
    ({"k": {"$in": [[1]]}}, INVALID),
    ({"$in": [1]}, INVALID),
    ({"$foo": 1}, INVALID),
    ({"$foo": {"$eq": 1}}, INVALID),
    ({"k": {"$gt": float("nan")}}, INVALID),
    ({"k": float("inf")}, INVALID),
    ({"k": 2**63}, INVALID),
    ({"k": {"$in": [1, 2**63]}}, INVALID),
    ({"k": {"$contains": float("nan")}}, INVALID),
    ({"$and": [{"k": 1}, {"k": {"$lt": False}}]}, INVALID),
    ({"#document": "Apple"}, NO_INDEX),
    ({"#document": {"$ne": "Apple"}}, NO_INDEX),
    ({"#document": {"$in": ["a"]}}, NO_INDEX),
]

INVALID_WHERE_DOCUMENT: list[tuple[Any, str]] = [
    ("abc", "Expected where document to be a dictionary, got abc"),
    ({}, "Expected where document to have exactly one operator, got {}"),
    (
        {"$contains": "a", "$regex": "b"},
        "Expected where document to have exactly one operator, got {'$contains': 'a', '$regex': 'b'}",
    ),
    (
        {"$foo": "a"},
        "Expected where document operator to be one of $contains, $not_contains, $regex, $not_regex, "
        "$and, $or, got $foo",
    ),
    (
        {"$and": "x"},
        "Expected document value for $and or $or to be a list of where document expressions, got x",
    ),
    (
        {"$and": [1]},
        "Expected document value for $and or $or to be a list with at least two where document "
        "expressions, got [1]",
    ),
    (
        {"$or": [{"$contains": "a"}]},
        "Expected document value for $and or $or to be a list with at least two where document "
        "expressions, got [{'$contains': 'a'}]",
    ),
    ({"$or": [{"$contains": "a"}, 5]}, "Expected where document to be a dictionary, got 5"),
    (
        {"$contains": ""},
        "Expected where document operand value for operator $contains to be a non-empty str",
    ),
    (
        {"$regex": ""},
        "Expected where document operand value for operator $regex to be a non-empty str",
    ),
    (
        {"$contains": 1},
        "Expected where document operand value for operator $contains to be a str, got 1",
    ),
    (
        {"$not_regex": 1},
        "Expected where document operand value for operator $not_regex to be a str, got 1",
    ),
    ({"$regex": "["}, "Regex syntax errror: regex parse error:\n    [\nerror: missing ]: ["),
    (
        {"$and": [{"$contains": "a"}, {"$regex": "("}]},
        "Regex syntax errror: regex parse error:\n    (",
    ),
    ({"$not_regex": "(?=a)"}, "Regex syntax errror: regex parse error:\n    (?=a)"),
    ({"$regex": "(a)\\1"}, "Regex syntax errror: regex parse error:\n    (a)\\1"),
]

VALID_WHERE: list[Any] = [
    {"k": "a"},
    {"k": 1},
    {"k": 1.5},
    {"k": True},
    {"k": {"$ne": False}},
    {"k": {"$gte": 0}},
    {"k": {"$lt": 2.5}},
    {"k": {"$in": [True, False]}},
    {"k": {"$nin": [1.0, 2.0]}},
    {"k": {"$in": ["a", "b"]}},
    {"k": {"$contains": ""}},
    {"k": {"$not_contains": 2}},
    {"k": {"$eq": -(2**63)}},
    {"k": 2**70},
    {"#foo": 1},
    {"": 1},
    {"#document": 1},
    {"#document": {"$nin": [1]}},
    {"#document": {"$contains": ""}},
    {"#document": {"$not_contains": "x"}},
    {"$and": [{"k": 1}, {"$or": [{"a": {"$gt": 1}}, {"b": {"$lte": 2.5}}]}]},
    {"$or": [{"k": 1}, {"k": {"$ne": 2}}, {"k": 3}]},
]

VALID_WHERE_DOCUMENT: list[Any] = [
    {"$contains": "a"},
    {"$not_contains": "%"},
    {"$regex": ".*"},
    {"$not_regex": "^[Hh]ello"},
    {"$regex": "(?i)apple"},
    {"$regex": "\\p{Lu}{5}"},
    {"$regex": "[[:alpha:]]+ p"},
    {"$and": [{"$contains": "A"}, {"$or": [{"$contains": "p"}, {"$regex": "x"}]}]},
]


@pytest.mark.parametrize(("where", "message"), INVALID_WHERE)
def test_invalid_where(where: Any, message: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        validate_where(where)
    assert str(info.value) == message
    if isinstance(where, dict) and where:
        with pytest.raises(InvalidArgumentError, match="^" + re.escape(message) + "$"):
            compile_filter(where, None, ["s:k", "i:k"])


@pytest.mark.parametrize(("where_document", "message"), INVALID_WHERE_DOCUMENT)
def test_invalid_where_document(where_document: Any, message: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        validate_where_document(where_document)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("where", VALID_WHERE)
def test_valid_where(where: Any) -> None:
    validate_where(where)
    compile_filter(where, None, ["s:k", "i:k", "f:k", "b:k", "ls:k", "document"])


@pytest.mark.parametrize("where_document", VALID_WHERE_DOCUMENT)
def test_valid_where_document(where_document: Any) -> None:
    validate_where_document(where_document)
    compile_filter(None, where_document, ["document"])


def test_errors_are_value_errors() -> None:
    with pytest.raises(ValueError):
        validate_where({"k": {"$in": []}})


def test_count_predicates() -> None:
    where = {"$and": [{"a": 1}, {"$or": [{"b": 1}, {"c": {"$in": [1, 2, 3]}}]}]}
    where_document = {"$or": [{"$contains": "a"}, {"$regex": "b"}]}
    assert count_predicates(None, None) == 0
    assert count_predicates({}, {}) == 0
    assert count_predicates({"a": 1}, None) == 1
    assert count_predicates(where, None) == 3
    assert count_predicates(where, where_document) == 5
    check_predicate_limit(where, where_document, 5)
    with pytest.raises(QuotaError) as info:
        check_predicate_limit(where, where_document, 4)
    assert (info.value.limit, info.value.value, info.value.maximum) == (
        "max_where_predicates",
        5,
        4,
    )


def test_filter_depth_counts_nested_objects_not_lists() -> None:
    from flight_server.executor.filters import filter_depth

    assert filter_depth(None) == 0
    assert filter_depth({"n": 1}) == 1
    assert filter_depth({"n": {"$in": [1, 2]}}) == 2
    assert filter_depth({"$and": [{"n": 1}, {"m": {"$gt": 1}}]}) == 3


def test_a_filter_deeper_than_the_stack_is_refused_by_depth_not_recursion() -> None:
    import fletchdb

    from flight_server.errors import QuotaError

    deep: dict = {"n": 1}
    for _ in range(5000):
        deep = {"$and": [deep, {"n": 1}]}
    client = fletchdb.EphemeralClient()
    try:
        col = client.create_collection("deep")
        with pytest.raises(QuotaError, match="max_where_depth=64"):
            col.get(where=deep)
        with pytest.raises(QuotaError, match="max_where_depth=64"):
            col.delete(where=deep)
    finally:
        client.close()
