"""add/upsert/update with one positional table: every input form, against the list API as reference.

Each test runs with a local and a remote client. The reference for what a table write must do is
the same records written through Chroma's list API into another collection.
"""

from __future__ import annotations

import math
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fletchdb import Client, Collection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flight_server.errors import DuplicateIDError, InvalidArgumentError, QuotaError
from tests.api.conftest import engine_of
from tests.support.strategies import documents as document_values
from tests.support.strategies import metadatas

from .tables import EMBEDDING_TYPES, INPUT_KINDS, as_input, embedding_array, user_table

ALL = ["embeddings", "documents", "metadatas"]
DIM = 3


def same(a: Any, b: Any) -> bool:
    """Equal with types (True is not 1), NaN equal to NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    return bool(a == b)


def assert_same_records(got: Collection, want: Collection) -> None:
    a, b = got.get(include=ALL), want.get(include=ALL)
    assert a["ids"] == b["ids"]
    assert np.array_equal(a["embeddings"], b["embeddings"])
    assert a["documents"] == b["documents"]
    assert same(a["metadatas"], b["metadatas"]), (a["metadatas"], b["metadatas"])


def log_seq(client: Client, col: Collection) -> int:
    return engine_of(client).collection(col.id).log.last_seq


records = st.integers(1, 12).flatmap(
    lambda n: st.tuples(
        st.lists(metadatas().map(lambda m: m or None), min_size=n, max_size=n),
        st.lists(document_values, min_size=n, max_size=n),
        st.lists(
            st.lists(st.floats(-8, 8, width=32), min_size=DIM, max_size=DIM), min_size=n, max_size=n
        ),
    )
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=records,
    kind=st.sampled_from(INPUT_KINDS),
    plain=st.booleans(),
    embedding_type=st.sampled_from(EMBEDDING_TYPES),
    batch_size=st.sampled_from([None, 1, 5]),
)
def test_a_table_writes_what_the_list_api_writes(
    fresh: Callable[..., Collection],
    data: tuple[list[Any], list[Any], list[list[float]]],
    kind: str,
    plain: bool,
    embedding_type: str,
    batch_size: int | None,
) -> None:
    metas, docs, vectors = data
    ids = [f"r{i}" for i in range(len(metas))]
    emb = np.array(vectors, dtype=np.float32)
    reference, col = fresh(), fresh()
    reference.add(ids=ids, embeddings=emb, metadatas=metas, documents=docs)
    table = user_table(ids, emb, docs, metas, plain, embedding_type)
    with tempfile.TemporaryDirectory() as folder:
        col.add(as_input(table, kind, Path(folder)), batch_size=batch_size)
    assert_same_records(col, reference)


@pytest.mark.parametrize("op", ["upsert", "update"])
def test_upsert_and_update_take_tables_too(fresh: Callable[..., Collection], op: str) -> None:
    reference, col = fresh(), fresh()
    first = dict(
        ids=["a", "b"], embeddings=[[1.0, 0, 0], [0, 1.0, 0]], metadatas=[{"k": 1}, {"k": 2}]
    )
    for c in (reference, col):
        c.add(**first)
    change = dict(
        ids=["b", "c"],
        embeddings=np.array([[0, 0, 1.0], [1.0, 1, 1]], dtype=np.float32),
        metadatas=[{"k": 5, "new": "x"}, {"k": 6}],
        documents=["bee", "sea"],
    )
    getattr(reference, op)(**change)
    table = user_table(
        change["ids"], change["embeddings"], change["documents"], change["metadatas"]
    )
    getattr(col, op)(table)
    assert_same_records(col, reference)


def test_batches_are_atomic_writes_of_batch_size_records(client: Client) -> None:
    col = client.create_collection("batched")
    n = 23
    table = user_table([f"r{i}" for i in range(n)], np.ones((n, DIM), np.float32), None, [None] * n)
    before = log_seq(client, col)
    col.add(table, batch_size=5)
    assert log_seq(client, col) - before == 5  # ceil(23 / 5) writes
    assert col.count() == n
    small = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=2))
    col.upsert(small)  # small input batches are joined into one write
    assert log_seq(client, col) - before == 6


def test_a_failing_batch_names_where_the_load_stopped(fresh: Callable[..., Collection]) -> None:
    col = fresh()
    n = 30
    vectors = np.ones((n, DIM), np.float32)
    vectors[24, 1] = np.nan  # in the third batch of 10
    table = user_table([f"r{i}" for i in range(n)], vectors, None, [None] * n)
    with pytest.raises(InvalidArgumentError) as list_api:
        fresh().add(ids=[f"r{i}" for i in range(n)], embeddings=vectors)
    with pytest.raises(type(list_api.value)) as raised:
        col.add(table, batch_size=10)
    message = str(raised.value)
    assert message.startswith("Validation error: embeddings: Embeddings must not contain NaN")
    assert "'r24'" in message
    assert (
        "(batch 3 of the load, from input row 20: the 20 records before it were written" in message
    )
    assert raised.value.details["rows_written"] == 20
    assert col.get()["ids"] == [f"r{i}" for i in range(20)]  # the failing batch wrote nothing


def test_a_failure_in_the_first_batch_is_the_list_apis_error(
    fresh: Callable[..., Collection],
) -> None:
    col = fresh()
    col.add(ids=["x"], embeddings=[[1.0, 2.0, 3.0]])
    wide = np.ones((2, 4), np.float32)
    with pytest.raises(InvalidArgumentError) as list_api:
        col.add(ids=["a", "b"], embeddings=wide)
    with pytest.raises(type(list_api.value)) as table_api:
        col.add(user_table(["a", "b"], wide, None, [None, None]))
    assert str(table_api.value) == str(list_api.value)
    assert col.count() == 1


def test_duplicate_ids_anywhere_in_the_input_write_nothing(
    fresh: Callable[..., Collection],
) -> None:
    col = fresh()
    ids = [f"r{i}" for i in range(10)] + ["r3"]
    table = user_table(ids, np.ones((11, DIM), np.float32), None, [None] * 11)
    with pytest.raises(DuplicateIDError) as list_api:
        fresh().add(ids=ids, embeddings=np.ones((11, DIM)))
    with tempfile.TemporaryDirectory() as folder:
        for kind in ("table", "parquet", "polars"):
            with pytest.raises(DuplicateIDError) as raised:
                col.add(as_input(table, kind, Path(folder)), batch_size=4)
            assert str(raised.value) == str(list_api.value)
    assert col.count() == 0


def test_embedding_and_document_column_types(fresh: Callable[..., Collection]) -> None:
    reference, col = fresh(), fresh()
    vectors = np.arange(12, dtype=np.float32).reshape(4, 3)
    reference.add(ids=list("abcd"), embeddings=vectors, documents=["x", "y", "x", None])
    ints = pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1).astype(np.int64)), 3)
    docs = pa.array(["x", "y", "x", None]).dictionary_encode()
    col.add(
        pa.table(
            {
                "id": pa.array(list("ab"), pa.large_string()),
                "embedding": ints[:2],
                "document": docs[:2],
            }
        )
    )
    frame = pl.DataFrame(
        {
            "id": ["c", "d"],
            "embedding": vectors[2:],
            "document": pl.Series(["x", None], dtype=pl.Categorical),
        }
    )
    assert frame.schema["embedding"] == pl.Array(pl.Float32, 3)
    col.add(frame)
    assert_same_records(col, reference)
    pandas_col = fresh()
    pandas_col.add(
        pd.DataFrame(
            {"id": list("abcd"), "embedding": list(vectors), "document": ["x", "y", "x", None]}
        )
    )
    assert_same_records(pandas_col, reference)


def test_metadata_column_types_map_to_chroma_values(fresh: Callable[..., Collection]) -> None:
    col = fresh()
    table = pa.table(
        {
            "id": ["a", "b"],
            "embedding": embedding_array(np.ones((2, 2), np.float32), "fixed32"),
            "u8": pa.array([1, 2], pa.uint8()),
            "f32": pa.array([0.5, None], pa.float32()),
            "cat": pa.array(["p", "q"]).dictionary_encode(),
            "tags": pa.array([["x"], ["y", "z"]], pa.large_list(pa.string_view())),
            "nothing": pa.nulls(2),
            "i:typed": pa.array([7, None]),
        }
    )
    col.add(table)
    assert col.get()["metadatas"] == [
        {"u8": 1, "f32": 0.5, "cat": "p", "tags": ["x"], "typed": 7},
        {"u8": 2, "cat": "q", "tags": ["y", "z"]},
    ]


def test_unsupported_columns_are_refused_by_name(fresh: Callable[..., Collection]) -> None:
    col = fresh()
    base = {"id": ["a"], "embedding": embedding_array(np.ones((1, 2), np.float32), "fixed32")}
    when = pa.array([0], pa.timestamp("s"))
    with pytest.raises(InvalidArgumentError, match="Column 'when' has type timestamp"):
        col.add(pa.table({**base, "when": when}))
    with pytest.raises(InvalidArgumentError, match="cannot be int64"):
        col.add(pa.table({**base, "big": pa.array([2**64 - 1], pa.uint64())}))
    with pytest.raises(InvalidArgumentError, match="pass it alone, without documents"):
        col.add(pa.table(base), documents=["d"])
    with pytest.raises(InvalidArgumentError, match="got 0 IDs in add"):
        col.add(pa.table(base).slice(0, 0))
    assert col.count() == 0


def test_a_str_is_a_path_only_for_an_existing_parquet_file(
    fresh: Callable[..., Collection], tmp_path: Path
) -> None:
    col = fresh()
    col.add("missing.parquet", embeddings=[[1.0, 2.0]])  # not a file: Chroma's single id
    assert col.get()["ids"] == ["missing.parquet"]
    with pytest.raises(InvalidArgumentError, match="does not exist"):
        col.add(tmp_path / "missing.parquet")  # a Path is always a path
    path = tmp_path / "x.PARQUET"
    pq.write_table(
        pa.table({"id": ["p"], "embedding": embedding_array(np.ones((1, 2)), "fixed32")}), path
    )
    col.add(str(path))
    assert col.get()["ids"] == ["missing.parquet", "p"]
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    with pytest.raises(InvalidArgumentError, match="as Parquet"):
        col.add(tmp_path / "bad.parquet")


def test_documents_are_embedded_by_the_collections_function(
    shared_client: Client,
) -> None:
    def ef(input: list[str]) -> list[list[float]]:
        return [[float(len(t)), 1.0] for t in input]

    name = f"ef-{uuid.uuid4().hex}"
    col = shared_client.create_collection(name, embedding_function=ef)
    try:
        col.add(pa.table({"id": ["a", "b"], "document": ["x", "yyy"]}))
        assert col.get(include=["embeddings"])["embeddings"].tolist() == [[1.0, 1.0], [3.0, 1.0]]
    finally:
        shared_client.delete_collection(name)


def test_batch_size_is_checked_and_capped(open_client: Callable[..., Client]) -> None:
    client = open_client()
    col = client.create_collection("sizes")
    table = user_table(list("abc"), np.ones((3, 2), np.float32), None, [None] * 3)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(InvalidArgumentError, match="batch_size must be an int > 0"):
            col.add(table, batch_size=bad)
    col.add(table, batch_size=10**9)  # capped at max_batch_rows
    assert col.count() == 3


def test_max_batch_rows_caps_the_batches(open_client: Callable[..., Client], settings: Any) -> None:
    client = open_client(settings(max_batch_rows=4))
    col = client.create_collection("capped")
    n = 10
    col.add(user_table([f"r{i}" for i in range(n)], np.ones((n, 2), np.float32), None, [None] * n))
    assert col.count() == n
    with pytest.raises(QuotaError):  # the list API keeps its one-batch limit
        col.add(ids=[f"s{i}" for i in range(5)], embeddings=np.ones((5, 2)))


def test_progress_bar_only_when_asked(fresh: Callable[..., Collection], capsys: Any) -> None:
    col = fresh()
    table = user_table(list("abc"), np.ones((3, 2), np.float32), None, [None] * 3)
    col.add(table)
    assert capsys.readouterr().err == ""
    col.upsert(table, progress=True)
    err = capsys.readouterr().err
    assert "upsert table" in err and "3/3" in err and "records" in err


def test_adding_rows_from_arrow_makes_no_python_object_per_row(tmp_path: Path) -> None:
    import tracemalloc

    import fletchdb

    n = 200_000
    table = pa.table(
        {
            "id": pa.array(np.char.add("id", np.arange(n).astype(str))),
            "embedding": embedding_array(np.random.default_rng(0).random((n, 2)), "fixed32"),
            "document": pa.array(np.char.add("doc", np.arange(n).astype(str))),
            "year": pa.array(np.arange(n)),
            "genre": pa.array(np.char.add("g", (np.arange(n) % 7).astype(str))),
        }
    )
    engine_settings = fletchdb.Settings(compaction_enabled=False)
    with fletchdb.PersistentClient(tmp_path, settings=engine_settings) as client:
        col = client.create_collection("many")
        col.add(table.slice(0, 10))  # imports and caches warmed up outside the measurement
        tracemalloc.start()
        try:
            col.add(table.slice(10))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert col.count() == n
    # one str per id alone would be ~70 bytes a row (a list of them: 14 MB here)
    assert peak < 16 * n, f"{peak / n:.1f} traced bytes per row"
