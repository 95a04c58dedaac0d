"""Compiled filters run in DuckDB select exactly the records the reference evaluator accepts."""

from __future__ import annotations

from typing import Any
from unittest import mock

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flight_server.errors import InternalError
from flight_server.executor import filter_sql
from flight_server.executor.filter_sql import compile_filter, relation_aliases
from tests.support.reference_filter import matches
from tests.support.strategies import (
    documents,
    metadatas,
    where_document_filters,
    where_filters,
)
from tests.support.tables import to_wide_table

CONFIG = {"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"}
FAST = settings(max_examples=200, deadline=None)
CASE_SAFE_KEYS = ("a", "b", 'a"b', "x:y", "ü", "c d")

Record = tuple[dict[str, Any] | None, str | None]


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(config=CONFIG)
    yield connection
    connection.close()


def _records(keys: tuple[str, ...] | None = None) -> st.SearchStrategy[list[Record]]:
    meta = metadatas(keys) if keys else metadatas()
    return st.lists(st.tuples(meta, documents), max_size=12)


def selected(
    con: duckdb.DuckDBPyConnection,
    records: list[Record],
    where: dict[str, Any] | None,
    where_document: dict[str, Any] | None,
    aliased: bool = True,
) -> tuple[set[str], set[str]]:
    """(ids DuckDB selects with the compiled filter, ids the reference evaluator accepts)."""
    ids = [f"r{i}" for i in range(len(records))]
    table = to_wide_table(ids, [m for m, _ in records], [d for _, d in records])
    columns: Any = table.column_names
    if aliased:
        columns = relation_aliases(table.column_names)
        table = table.rename_columns([columns[name] for name in table.column_names])
    expr, params = compile_filter(where, where_document, columns)
    con.register("rel", table)
    got = {row[0] for row in con.execute(f"SELECT id FROM rel WHERE {expr}", params).fetchall()}
    strict = con.execute(f"SELECT id FROM rel WHERE NOT (({expr}) IS TRUE)", params).fetchall()
    assert got.isdisjoint(row[0] for row in strict) and len(got) + len(strict) == len(ids)
    want = {ids[i] for i, (m, d) in enumerate(records) if matches(where, where_document, m, d)}
    return got, want


@FAST
@given(records=_records(), where=where_filters())
def test_where_matches_reference(con, records, where) -> None:
    got, want = selected(con, records, where, None)
    assert got == want


@FAST
@given(records=_records(), where_document=where_document_filters())
def test_where_document_matches_reference(con, records, where_document) -> None:
    got, want = selected(con, records, None, where_document)
    assert got == want


@FAST
@given(records=_records(), where=where_filters(), where_document=where_document_filters())
def test_both_filters_match_reference(con, records, where, where_document) -> None:
    got, want = selected(con, records, where, where_document)
    assert got == want


@settings(max_examples=100, deadline=None)
@given(records=_records(CASE_SAFE_KEYS), where=where_filters(CASE_SAFE_KEYS))
def test_plain_column_names_and_any_form(con, records, where) -> None:
    """Unaliased column lists work when no names collide; `= ANY(?)` agrees with list_contains."""
    got, want = selected(con, records, where, None, aliased=False)
    assert got == want
    with mock.patch.object(filter_sql, "ANY_THRESHOLD", 0):
        got, want = selected(con, records, where, None, aliased=False)
    assert got == want


# Chroma 1.5.9, observed: these records and filters gave exactly these ids.
CHROMA_RECORDS: dict[str, Record] = {
    "i1": ({"k": 1}, "Hello world"),
    "f1": ({"k": 1.0}, "hello World"),
    "f15": ({"k": 1.5}, "abc%def"),
    "s1": ({"k": "1"}, "a_b"),
    "b1": ({"k": True}, "x"),
    "b0": ({"k": False}, "foo bar"),
    "i0": ({"k": 0}, "foo"),
    "none": ({"other": 1}, None),
    "nometa": (None, "zzz"),
    "ls": ({"k": ["a", "b"]}, "list doc"),
    "li": ({"k": [1, 2]}, "list int"),
    "lf": ({"k": [1.0, 2.5]}, "list float"),
    "lb": ({"k": [True]}, "list bool"),
    "sa": ({"k": "a"}, "Apple"),
    "sab": ({"k": "ab"}, "APPLE pie"),
}
ALL = set(CHROMA_RECORDS)
CHROMA_CASES: list[tuple[dict[str, Any] | None, dict[str, Any] | None, set[str]]] = [
    ({"k": 1}, None, {"i1", "f1"}),
    ({"k": 1.0}, None, {"i1", "f1"}),
    ({"k": 1.5}, None, {"f15", "i1"}),
    ({"k": {"$ne": 1}}, None, ALL - {"i1", "f1"}),
    ({"k": {"$ne": 1.5}}, None, ALL - {"i1", "f15"}),
    ({"k": True}, None, {"b1"}),
    ({"k": {"$ne": True}}, None, ALL - {"b1"}),
    ({"k": {"$gt": 0}}, None, {"f1", "f15", "i1"}),
    ({"k": {"$lt": 1.5}}, None, {"f1", "i0"}),
    ({"k": {"$gte": 0.5}}, None, {"f1", "f15", "i0", "i1"}),
    ({"k": {"$gt": -0.5}}, None, {"f1", "f15", "i1"}),
    ({"k": {"$lt": 0.5}}, None, set()),
    ({"k": {"$lt": 1e30}}, None, {"f1", "f15", "i0", "i1"}),
    ({"k": {"$gt": -1e30}}, None, {"f1", "f15", "i0", "i1"}),
    ({"k": {"$in": [1.5]}}, None, {"f15", "i1"}),
    ({"k": {"$in": [0.9, 2.0]}}, None, {"i0"}),
    ({"k": {"$nin": [1]}}, None, ALL - {"i1", "f1"}),
    ({"k": {"$in": ["a"]}}, None, {"sa"}),
    ({"k": {"$nin": [True]}}, None, ALL - {"b1"}),
    ({"k": {"$ne": "1"}}, None, ALL - {"s1"}),
    ({"k": {"$contains": "a"}}, None, {"ls"}),
    ({"k": {"$not_contains": "a"}}, None, ALL - {"ls"}),
    ({"k": {"$contains": 1}}, None, {"li"}),
    ({"k": {"$contains": 1.0}}, None, {"lf"}),
    ({"k": {"$not_contains": 1}}, None, ALL - {"li"}),
    ({"k": {"$contains": True}}, None, {"lb"}),
    ({"k": {"$contains": False}}, None, set()),
    ({"k": {"$contains": ""}}, None, set()),
    ({"#document": {"$not_contains": "Apple"}}, None, ALL - {"sa"}),
    ({"#document": {"$contains": ""}}, None, ALL - {"none"}),
    ({"#document": 1}, None, set()),
    ({"#document": {"$nin": [1]}}, None, ALL),
    (None, {"$contains": "hello"}, {"f1"}),
    (None, {"$not_contains": "hello"}, ALL - {"f1"}),
    (None, {"$contains": "%"}, {"f15"}),
    (None, {"$contains": "_"}, {"s1"}),
    (None, {"$regex": "^[Hh]ello"}, {"f1", "i1"}),
    (None, {"$not_regex": "^[Hh]ello"}, ALL - {"f1", "i1"}),
    (None, {"$regex": "(?i)apple"}, {"sa", "sab"}),
    (None, {"$regex": "a.b"}, {"s1"}),
    (None, {"$regex": ".*"}, ALL - {"none"}),
    (None, {"$not_regex": ".*"}, {"none"}),
    (None, {"$regex": "\\x41"}, {"sa", "sab"}),
    (None, {"$regex": "\\bpie\\b"}, {"sab"}),
    ({"k": "a"}, {"$contains": "Apple"}, {"sa"}),
    ({"$or": [{"k": 1}, {"other": 1}]}, None, {"f1", "i1", "none"}),
    (
        {"$or": [{"k": {"$contains": "a"}}, {"$and": [{"k": {"$gte": 1}}, {"k": {"$lt": 1.5}}]}]},
        None,
        {"f1", "ls"},
    ),
    (
        None,
        {"$and": [{"$contains": "A"}, {"$or": [{"$contains": "p"}, {"$regex": "x"}]}]},
        {"sa", "sab"},
    ),
]


@pytest.mark.parametrize(("where", "where_document", "expected"), CHROMA_CASES)
def test_matches_chroma(con, where, where_document, expected) -> None:
    records = list(CHROMA_RECORDS.values())
    names = list(CHROMA_RECORDS)
    got, want = selected(con, records, where, where_document)
    assert {names[int(i[1:])] for i in got} == expected
    assert {names[int(i[1:])] for i in want} == expected


NASTY = "' OR 1=1 --"


@pytest.mark.parametrize(
    ("where", "where_document"),
    [
        ({"a": NASTY}, None),
        ({"a": {"$ne": NASTY}}, None),
        ({"a": {"$in": [NASTY, "x"]}}, None),
        ({"a": {"$contains": NASTY}}, None),
        ({"#document": {"$contains": NASTY}}, None),
        (None, {"$contains": NASTY}),
        (None, {"$regex": NASTY}),
        ({'a" OR 1=1 --': NASTY}, {"$or": [{"$contains": NASTY}, {"$not_regex": "'--"}]}),
    ],
)
def test_values_never_in_sql_text(con, where, where_document) -> None:
    expr, params = compile_filter(where, where_document, ["s:a", "ls:a", "document"])
    assert NASTY not in expr and "'" not in expr
    assert NASTY in params or [NASTY, "x"] in params
    records: list[Record] = [
        ({"a": NASTY, 'a" OR 1=1 --': NASTY}, NASTY),
        ({"a": "x"}, "x"),
        ({"a": [NASTY]}, None),
        ({'a" OR 1=1 --': "y"}, "y"),
    ]
    got, want = selected(con, records, where, where_document)
    assert got == want


def test_quoted_key_is_one_identifier(con) -> None:
    records: list[Record] = [({'a" OR 1=1 --': "v"}, None), ({"a": "v"}, None)]
    expr, _ = compile_filter({'a" OR 1=1 --': "v"}, None, ['s:a" OR 1=1 --', "s:a"])
    assert expr == '"s:a"" OR 1=1 --" = ?'
    got, want = selected(con, records, {'a" OR 1=1 --': "v"}, None)
    assert got == want == {"r0"}


def test_absent_columns_compile_to_typed_nulls(con) -> None:
    where = {
        "$and": [
            {"k": {"$ne": 1}},
            {"k": {"$nin": ["a"]}},
            {"k": {"$not_contains": 2.5}},
            {"$or": [{"k": {"$gt": 1}}, {"k": {"$in": [True]}}, {"k": {"$contains": "x"}}]},
        ]
    }
    expr, params = compile_filter(where, {"$not_regex": "a"}, ["id"])
    assert "CAST(NULL AS BIGINT)" in expr and "CAST(NULL AS VARCHAR[])" in expr
    con.register("bare", to_wide_table(["r0"], [None], [None]).select(["id"]))
    assert con.execute(f"SELECT id FROM bare WHERE {expr}", params).fetchall() == []
    expr, params = compile_filter({"k": {"$ne": 1}}, {"$not_contains": "a"}, ["id"])
    assert con.execute(f"SELECT id FROM bare WHERE {expr}", params).fetchall() == [("r0",)]


def test_empty_filters_compile_to_true() -> None:
    assert compile_filter(None, None, []) == ("TRUE", [])
    assert compile_filter({}, {}, ["s:a"]) == ("TRUE", [])


def test_case_colliding_columns_need_aliases() -> None:
    with pytest.raises(InternalError, match="relation_aliases"):
        compile_filter({"a": "x"}, None, ["s:a", "s:A"])
    assert compile_filter({"b": "x"}, None, ["s:a", "s:A", "s:b"])[0] == '"s:b" = ?'
    aliases = relation_aliases(["s:a", "s:A", "s:A~1", "id"])
    assert aliases == {"s:a": "s:a", "s:A": "s:A~1", "s:A~1": "s:A~1~1", "id": "id"}
