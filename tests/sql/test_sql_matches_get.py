"""SQL over a collection equals what collection.get returns, through any writes and compactions.

Hypothesis draws a sequence of add / upsert / update / delete batches (the engine state machine's
strategies: keys that collide in case, need quoting, mixed types and lists) with compactions in
between. After every step `SELECT * FROM <collection>` must hold exactly get()'s records, with the
columns and types docs/sql.md promises, computed here from get()'s values by the documented rule
(the brute-force reference): one column per key present in a live record; its type from the
value types it holds (one type: that type; ints and floats: DOUBLE; int and float lists:
DOUBLE[]; anything else: JSON text); names clashing with id/document/embedding or with another
key ignoring ASCII case get `~1`, `~2`, ... in key order.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import fletchdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.property.test_engine_state_machine import write_args

IDS = tuple(f"r{i}" for i in range(8))
TYPES = {
    bool: ("b", "BOOLEAN"),
    int: ("i", "BIGINT"),
    float: ("f", "DOUBLE"),
    str: ("s", "VARCHAR"),
}
_names = itertools.count()


def _tag(value: Any) -> tuple[str, str]:
    if isinstance(value, list):
        tag, sql = TYPES[type(value[0])]
        return "l" + tag, sql + "[]"
    return TYPES[type(value)]


def _fold(name: str) -> str:
    return "".join(c.lower() if "A" <= c <= "Z" else c for c in name)


def expected_names(keys: list[str]) -> dict[str, str]:
    taken = {"id", "document", "embedding"}
    out = {}
    for key in sorted(keys):
        name, n = key, 0
        while _fold(name) in taken:
            n += 1
            name = f"{key}~{n}"
        taken.add(_fold(name))
        out[key] = name
    return out


def expected_table(got: dict[str, Any], dim: int) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """(column -> SQL type, rows sorted by id) that SQL must show for these get() records."""
    metas = [m or {} for m in got["metadatas"]]
    tags: dict[str, dict[str, str]] = {}
    for meta in metas:
        for key, value in meta.items():
            tag, sql = _tag(value)
            tags.setdefault(key, {})[tag] = sql
    names = expected_names(list(tags))
    kinds: dict[str, str] = {}
    for key, seen in tags.items():
        if len(seen) == 1:
            kinds[key] = next(iter(seen.values()))
        elif set(seen) in ({"i", "f"}, {"li", "lf"}):
            kinds[key] = "DOUBLE" if "i" in seen else "DOUBLE[]"
        else:
            kinds[key] = "JSON"
    columns = {"id": "VARCHAR", "document": "VARCHAR", "embedding": f"FLOAT[{dim}]"}
    columns.update({names[k]: kinds[k] for k in sorted(tags)})
    rows = []
    for i, record_id in enumerate(got["ids"]):
        row = {
            "id": record_id,
            "document": got["documents"][i],
            "embedding": [float(x) for x in got["embeddings"][i]],
        }
        for key in sorted(tags):
            value = metas[i].get(key)
            if value is not None and kinds[key] == "DOUBLE":
                value = float(value)
            elif value is not None and kinds[key] == "DOUBLE[]":
                value = [float(x) for x in value]
            row[names[key]] = value
        rows.append(row)
    return columns, sorted(rows, key=lambda r: r["id"])


def check(client: fletchdb.Client, col: fletchdb.Collection, dim: int) -> None:
    got = col.get(include=["embeddings", "documents", "metadatas"])
    columns, rows = expected_table(got, dim)
    table = f'"{col.name}"'
    described = client.sql(f"DESCRIBE {table}").to_pylist()
    assert {r["column_name"]: r["column_type"] for r in described} == columns
    result = client.sql(f"SELECT * FROM {table} ORDER BY id").to_pylist()
    json_columns = [c for c, t in columns.items() if t == "JSON"]
    for row in result:
        for c in json_columns:
            row[c] = None if row[c] is None else json.loads(row[c])
    assert result == rows
    assert client.sql(f"SELECT count(*) AS n FROM {table}").to_pylist() == [{"n": col.count()}]


@st.composite
def histories(draw: st.DrawFn) -> tuple[int, list[tuple[str, dict[str, Any]]]]:
    """Writes (and compactions) to run in order; the first adds at least one record."""
    dim = draw(st.sampled_from([1, 3]), "dim")
    first = draw(st.lists(st.sampled_from(IDS), min_size=1, max_size=6, unique=True))
    steps = [("add", write_args(draw, "add", first, dim))]
    for _ in range(draw(st.integers(1, 7), "steps")):
        op = draw(st.sampled_from(["add", "upsert", "update", "delete", "compact"]), "op")
        if op == "compact":
            steps.append((op, {}))
            continue
        ids = draw(st.lists(st.sampled_from(IDS), min_size=1, max_size=5, unique=True))
        steps.append((op, {"ids": ids} if op == "delete" else write_args(draw, op, ids, dim)))
    return dim, steps


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories())
def test_sql_equals_get_through_writes_and_compactions(shared_client, history) -> None:
    dim, steps = history
    col = shared_client.create_collection(f"sqlprop{next(_names)}", embedding_function=None)
    try:
        for op, args in steps:
            if op == "compact":
                col.compact()
            else:
                getattr(col, op)(**args)
            check(shared_client, col, dim)
    finally:
        shared_client.delete_collection(col.name)
