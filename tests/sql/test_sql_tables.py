"""client.sql: collections as tables (shape, types, names), parameters, vector similarity, results.

Every test runs [local] and [remote] (a real Flight server): the results must be identical.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import fletchdb
import numpy as np
import polars as pl
import pyarrow as pa
import pytest
from fletchdb.errors import InvalidArgumentError


def fresh(client: fletchdb.Client, prefix: str = "t") -> fletchdb.Collection:
    return client.create_collection(f"{prefix}{uuid.uuid4().hex[:12]}")


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def types(client: fletchdb.Client, name: str) -> dict[str, str]:
    rows = client.sql(f"DESCRIBE {q(name)}").to_pylist()
    return {r["column_name"]: r["column_type"] for r in rows}


def test_a_collection_is_a_table_of_id_document_embedding_and_metadata(shared_client) -> None:
    col = fresh(shared_client)
    col.add(
        ids=["a", "b", "c"],
        embeddings=[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
        documents=["apple", None, "cherry"],
        metadatas=[{"category": "fruit", "n": 1}, {"category": "nut"}, {"t": True, "l": ["x"]}],
    )
    assert types(shared_client, col.name) == {
        "id": "VARCHAR",
        "document": "VARCHAR",
        "embedding": "FLOAT[3]",
        "category": "VARCHAR",
        "l": "VARCHAR[]",
        "n": "BIGINT",
        "t": "BOOLEAN",
    }
    table = shared_client.sql(f"SELECT * FROM {q(col.name)} ORDER BY id")
    assert isinstance(table, pa.Table)
    assert table.column_names == ["id", "document", "embedding", "category", "l", "n", "t"]
    assert table.to_pylist() == [
        {"id": "a", "document": "apple", "embedding": [1.0, 0.0, 0.0], "category": "fruit",
         "l": None, "n": 1, "t": None},
        {"id": "b", "document": None, "embedding": [0.0, 1.0, 0.0], "category": "nut",
         "l": None, "n": None, "t": None},
        {"id": "c", "document": "cherry", "embedding": [0.0, 0.0, 1.0], "category": None,
         "l": ["x"], "n": None, "t": True},
    ]  # fmt: skip


def test_the_issue_example_groups_by_a_metadata_key(shared_client) -> None:
    col = fresh(shared_client, "docs")
    cats = ["a", "b", "a", "c", "a", "b"]
    col.add(
        ids=[str(i) for i in range(6)],
        embeddings=np.eye(6, 4, dtype=np.float32),
        metadatas=[{"category": c} for c in cats],
    )
    got = shared_client.sql(f"SELECT category, count(*) FROM {q(col.name)} GROUP BY 1 ORDER BY 1")
    assert got.to_pydict() == {"category": ["a", "b", "c"], "count_star()": [3, 2, 1]}


@pytest.mark.parametrize(
    ("values", "sql_type", "expected"),
    [
        ([1, 2], "BIGINT", [1, 2]),
        ([1, 2.5], "DOUBLE", [1.0, 2.5]),
        (["x", 3], "JSON", ['"x"', "3"]),
        ([True, 1], "JSON", ["true", "1"]),
        ([[1, 2], [0.5]], "DOUBLE[]", [[1.0, 2.0], [0.5]]),
        ([[1], ["a"]], "JSON", ["[1]", '["a"]']),
        (["s", ["s"]], "JSON", ['"s"', '["s"]']),
        ([[True], [False]], "BOOLEAN[]", [[True], [False]]),
    ],
)
def test_a_key_with_several_types_is_one_column(
    shared_client, values: list[Any], sql_type: str, expected: list[Any]
) -> None:
    col = fresh(shared_client)
    col.add(ids=["r0", "r1"], embeddings=[[1.0], [2.0]], metadatas=[{"k": v} for v in values])
    assert types(shared_client, col.name)["k"] == sql_type
    got = shared_client.sql(f"SELECT k FROM {q(col.name)} ORDER BY id").column("k").to_pylist()
    assert got == expected
    if sql_type == "JSON":
        assert [json.loads(g) for g in got] == values


def test_column_types_follow_the_live_records_only(shared_client) -> None:
    col = fresh(shared_client)
    col.add(ids=["a", "b"], embeddings=[[1.0], [2.0]], metadatas=[{"k": 1}, {"k": "s"}])
    assert types(shared_client, col.name)["k"] == "JSON"
    col.delete(ids=["b"])
    assert types(shared_client, col.name)["k"] == "BIGINT"
    col.compact()
    col.update(ids=["a"], metadatas=[{"k": None, "j": 2.5}])
    assert "k" not in types(shared_client, col.name)
    assert types(shared_client, col.name)["j"] == "DOUBLE"


def test_keys_that_clash_with_columns_or_in_case_get_a_suffix(shared_client) -> None:
    col = fresh(shared_client)
    meta = {"id": "m", "Document": 1, "A": 2, "a": 3, 'q"uote': 4, "x:y": 5}
    col.add(ids=["r"], embeddings=[[1.0]], documents=["doc"], metadatas=[meta])
    row = shared_client.sql(f"SELECT * FROM {q(col.name)}").to_pylist()[0]
    assert row == {
        "id": "r", "document": "doc", "embedding": [1.0],
        "A": 2, "Document~1": 1, "a~1": 3, "id~1": "m", 'q"uote': 4, "x:y": 5,
    }  # fmt: skip
    picked = shared_client.sql(f'SELECT "id~1", "q""uote" FROM {q(col.name)}').to_pylist()
    assert picked == [{"id~1": "m", 'q"uote': 4}]


def test_collection_names_are_quoted_and_matched_ignoring_case(shared_client) -> None:
    name = f"My.Docs-{uuid.uuid4().hex[:6]}"
    col = shared_client.create_collection(name)
    col.add(ids=["a"], embeddings=[[1.0]])
    assert shared_client.sql(f"SELECT id FROM {q(name)}").to_pylist() == [{"id": "a"}]
    assert shared_client.sql(f"SELECT id FROM {q(name.lower())}").to_pylist() == [{"id": "a"}]
    assert shared_client.sql(f"SELECT id FROM main.{q(name)}").to_pylist() == [{"id": "a"}]


def test_two_collections_differing_only_in_case(client) -> None:
    upper, lower = client.create_collection("Docs"), client.create_collection("docs")
    upper.add(ids=["U"], embeddings=[[1.0]])
    lower.add(ids=["l"], embeddings=[[1.0]])
    assert client.sql('SELECT id FROM "Docs"').to_pylist() == [{"id": "U"}]
    assert client.sql("SELECT id FROM docs").to_pylist() == [{"id": "l"}]
    with pytest.raises(InvalidArgumentError, match=r"\[Docs\] and \[docs\] differ only in case"):
        client.sql('SELECT * FROM "Docs", docs')
    with pytest.raises(InvalidArgumentError, match="matches several collections ignoring case"):
        client.sql("SELECT * FROM DOCS")


def test_joins_across_collections_and_empty_collections(shared_client) -> None:
    left, right, empty = fresh(shared_client), fresh(shared_client), fresh(shared_client)
    left.add(ids=["a", "b"], embeddings=[[1.0, 0.0], [0.0, 1.0]], metadatas=[{"g": 1}, {"g": 2}])
    right.add(ids=["b", "c"], embeddings=[[1.0], [2.0]], documents=["bee", "sea"])
    got = shared_client.sql(
        f"SELECT l.id, l.g, r.document FROM {q(left.name)} l JOIN {q(right.name)} r USING (id)"
    )
    assert got.to_pylist() == [{"id": "b", "g": 2, "document": "bee"}]
    assert shared_client.sql(f"SELECT count(*) AS n FROM {q(empty.name)}").to_pylist() == [{"n": 0}]
    assert list(types(shared_client, empty.name)) == ["id", "document", "embedding"]


def test_only_the_current_database_is_visible(client) -> None:
    client.create_collection("shared_name").add(ids=["main"], embeddings=[[1.0]])
    client.create_database("other")
    client.set_database("other")
    client.create_collection("shared_name").add(ids=["other"], embeddings=[[1.0]])
    client.create_collection("only_here").add(ids=["x"], embeddings=[[1.0]])
    assert client.sql("SELECT id FROM shared_name").to_pylist() == [{"id": "other"}]
    client.set_database("default_database")
    assert client.sql("SELECT id FROM shared_name").to_pylist() == [{"id": "main"}]
    with pytest.raises(InvalidArgumentError, match="Table with name only_here does not exist"):
        client.sql("SELECT * FROM only_here")


def test_vector_similarity_with_duckdb_array_functions(shared_client) -> None:
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(50, 8)).astype(np.float32)
    col = fresh(shared_client)
    col.add(ids=[f"v{i}" for i in range(50)], embeddings=vectors)
    query = rng.normal(size=8).astype(np.float32)
    got = shared_client.sql(
        f"SELECT id, array_cosine_similarity(embedding, $q::FLOAT[8]) AS sim "
        f"FROM {q(col.name)} ORDER BY sim DESC LIMIT 5",
        {"q": query},
    )
    cos = vectors @ query / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(query))
    assert got.column("id").to_pylist() == [f"v{i}" for i in np.argsort(-cos)[:5]]
    np.testing.assert_allclose(got.column("sim").to_numpy(), np.sort(cos)[::-1][:5], rtol=1e-5)
    dist = shared_client.sql(
        f"SELECT id, array_distance(embedding, ?::FLOAT[8]) AS d, "
        f"array_inner_product(embedding, ?::FLOAT[8]) AS ip FROM {q(col.name)} ORDER BY id",
        [query.tolist(), query],
    )
    order = np.argsort([f"v{i}" for i in range(50)])
    np.testing.assert_allclose(
        dist.column("d").to_numpy(), np.linalg.norm(vectors - query, axis=1)[order], rtol=1e-5
    )
    np.testing.assert_allclose(dist.column("ip").to_numpy(), (vectors @ query)[order], rtol=1e-5)


def test_parameters_positional_and_named(shared_client) -> None:
    col = fresh(shared_client)
    col.add(ids=["a", "b", "c"], embeddings=[[1.0]] * 3, metadatas=[{"n": i} for i in range(3)])
    name = q(col.name)
    assert shared_client.sql(
        f"SELECT id FROM {name} WHERE n >= ? ORDER BY id", [1]
    ).to_pylist() == [
        {"id": "b"},
        {"id": "c"},
    ]
    got = shared_client.sql(f"SELECT id FROM {name} WHERE id = $1 OR n = $2", ("a", np.int64(2)))
    assert sorted(got.column("id").to_pylist()) == ["a", "c"]
    got = shared_client.sql(f"SELECT id FROM {name} WHERE list_contains($ids, id)", {"ids": ["c"]})
    assert got.column("id").to_pylist() == ["c"]


def test_results_are_one_step_from_polars_and_pandas(shared_client) -> None:
    col = fresh(shared_client)
    col.add(ids=["a", "b"], embeddings=[[1.0, 2.0], [3.0, 4.0]], metadatas=[{"n": 1}, {"n": 2}])
    table = shared_client.sql(f"SELECT id, n, embedding FROM {q(col.name)} ORDER BY id")
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    assert frame["n"].to_list() == [1, 2]
    assert frame["embedding"].to_list() == [[1.0, 2.0], [3.0, 4.0]]
    pandas = pytest.importorskip("pandas")
    df = table.to_pandas()
    assert isinstance(df, pandas.DataFrame) and df["id"].tolist() == ["a", "b"]


def test_every_acknowledged_write_is_seen(shared_client) -> None:
    col = fresh(shared_client)
    name = q(col.name)
    for i in range(5):
        col.add(ids=[f"r{i}"], embeddings=[[float(i)]], metadatas=[{"i": i}])
        got = shared_client.sql(f"SELECT count(*) AS n, max(i) AS m FROM {name}").to_pylist()
        assert got == [{"n": i + 1, "m": i}]
    col.compact()
    col.update(ids=["r0"], metadatas=[{"i": 100}])
    col.delete(ids=["r4"])
    assert shared_client.sql(f"SELECT count(*) AS n, max(i) AS m FROM {name}").to_pylist() == [
        {"n": 4, "m": 100}
    ]


def test_a_large_result_arrives_whole(shared_client) -> None:
    got = shared_client.sql("SELECT range AS x FROM range(200000)")
    assert got.num_rows == 200_000
    assert got.column("x").to_numpy().sum() == 199_999 * 200_000 // 2
