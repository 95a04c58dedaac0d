"""validate_write_batch: every check raises the right class with a message naming the problem."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from flight_server.arguments.validate import duplicate_ids_message, validate_write_batch
from flight_server.config import Settings
from flight_server.errors import (
    BatchSizeExceededError,
    DuplicateIDError,
    InvalidArgumentError,
    InvalidDimensionException,
    QuotaError,
)
from flight_server.schema import Op
from tests.support.calls import python_calls

D = 3
SETTINGS = Settings()


def fsl(rows: list[Any], d: int = D, typ: pa.DataType | None = None) -> pa.Array:
    return pa.array(rows, type=pa.list_(typ or pa.float32(), d))


def canonical(n: int = 3) -> dict[str, pa.Array]:
    """A valid add batch's columns, in canonical order."""
    return {
        "id": pa.array([f"r{i}" for i in range(n)], pa.string()),
        "embedding": fsl([[float(i), 1.0, 2.0] for i in range(n)]),
        "document": pa.array([f"doc {i}" if i % 2 == 0 else None for i in range(n)]),
        "s:genre": pa.array(["a", None, "c"][:n]),
        "ls:tags": pa.array([["x", "y"], None, ["z"]][:n], pa.list_(pa.string())),
        "i:year": pa.array([1990, 2000, None][:n], pa.int64()),
    }


def batch(cols: dict[str, pa.Array]) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(list(cols.values()), names=list(cols))


def with_cols(**changes: Any) -> pa.RecordBatch:
    """The canonical batch with columns replaced (value) or removed (None); names use __ for :."""
    cols = canonical()
    for name, value in changes.items():
        name = name.replace("__", ":")
        if value is None:
            cols.pop(name)
        else:
            cols[name] = value
    return batch(cols)


def check(op: Op, b: pa.RecordBatch, dimension: int | None = D, **limits: Any) -> pa.RecordBatch:
    return validate_write_batch(op, b, dimension, Settings(**limits) if limits else SETTINGS)


@pytest.mark.parametrize("op", [Op.ADD, Op.UPSERT, Op.UPDATE])
def test_canonical_batch_passes_unchanged(op: Op) -> None:
    b = pa.RecordBatch.from_arrays(
        list(canonical().values()),
        schema=pa.schema(
            [pa.field("id", pa.string(), nullable=False)]
            + [pa.field(k, v.type) for k, v in list(canonical().items())[1:]]
        ),
    )
    assert check(op, b) is b


def test_delete_batch_of_ids_passes_unchanged() -> None:
    b = pa.RecordBatch.from_arrays(
        [pa.array(["a", "b"])], schema=pa.schema([pa.field("id", pa.string(), nullable=False)])
    )
    assert check(Op.DELETE, b, None) is b


def test_first_write_without_collection_dimension_fixes_nothing() -> None:
    out = check(Op.ADD, with_cols(embedding=fsl([[1.0] * 5] * 3, 5)), None)
    assert out.schema.field("embedding").type == pa.list_(pa.float32(), 5)


def test_normalizes_order_and_types() -> None:
    cols = canonical()
    b = pa.RecordBatch.from_arrays(
        [
            cols["i:year"].cast(pa.int32()),
            cols["document"].cast(pa.large_string()),
            pa.array([[1.0, 2.0, 3.0]] * 3, pa.list_(pa.float64())),
            cols["ls:tags"].cast(pa.large_list(pa.large_string())),
            cols["id"].cast(pa.large_string()),
            pa.array([1.5, None, 2.0], pa.float32()),
        ],
        names=["i:year", "document", "embedding", "ls:tags", "id", "f:score"],
    )
    out = check(Op.ADD, b)
    assert out.schema.names == ["id", "embedding", "document", "f:score", "ls:tags", "i:year"]
    assert out.schema.types == [
        pa.string(),
        pa.list_(pa.float32(), 3),
        pa.string(),
        pa.float64(),
        pa.list_(pa.string()),
        pa.int64(),
    ]
    assert not out.schema.field("id").nullable
    assert out.column(1).to_pylist() == [[1.0, 2.0, 3.0]] * 3
    assert out.column("i:year").to_pylist() == [1990, 2000, None]


def test_embedding_casts_fixed_float64_and_ints() -> None:
    out = check(Op.ADD, with_cols(embedding=fsl([[1, 2, 3]] * 3, typ=pa.int64())))
    assert out.column("embedding").type == pa.list_(pa.float32(), 3)
    out = check(Op.ADD, with_cols(embedding=fsl([[0.5, 2, 3]] * 3, typ=pa.float64())))
    assert out.column("embedding").to_pylist()[0] == [0.5, 2.0, 3.0]


def test_update_embedding_nulls_kept_and_all_null_dropped() -> None:
    var = pa.array([[1.0, 2.0, 3.0], None, [4.0, 5.0, 6.0]], pa.list_(pa.float64()))
    out = check(Op.UPDATE, with_cols(embedding=var))
    assert out.column("embedding").type == pa.list_(pa.float32(), 3)
    assert out.column("embedding").to_pylist() == [[1, 2, 3], None, [4, 5, 6]]
    out = check(Op.UPDATE, with_cols(embedding=fsl([None, None, None], 7)))
    assert "embedding" not in out.schema.names


def test_update_and_upsert_accept_unset_columns() -> None:
    for op in (Op.UPDATE, Op.UPSERT):
        out = check(
            op, with_cols(x__year=pa.array([None, None, True]), x__gone=pa.array([True] * 3))
        )
        assert out.schema.names[-2:] == ["x:gone", "x:year"]


def test_unset_false_alongside_value_is_fine() -> None:
    check(Op.UPDATE, with_cols(x__genre=pa.array([False, True, False])))


def test_key_starting_with_chroma_prefix_other_than_document_is_allowed() -> None:
    # Chroma 1.5.9 rejects only the exact key "chroma:document" (and keys starting with # or $).
    check(Op.ADD, with_cols(**{"s:chroma:note": pa.array(["n", None, None])}))


def test_same_key_with_different_types_in_different_rows() -> None:
    check(Op.ADD, with_cols(f__year=pa.array([None, None, 2.5])))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_metadata_non_finite_floats_are_refused(bad: float) -> None:
    """NaN would match no filter and inf every `$gt`; Chroma drops them silently."""
    with pytest.raises(InvalidArgumentError, match="to be finite, got .* \\(record id 'r1'\\)"):
        check(Op.ADD, with_cols(f__score=pa.array([None, bad, 1.0])))
    lists = pa.array([[1.0], None, [2.0, bad]], type=pa.list_(pa.float64()))
    with pytest.raises(InvalidArgumentError, match="record id 'r2'"):
        check(Op.ADD, with_cols(lf__score=lists))


def fail_case(
    op: Op, make: Callable[[], pa.RecordBatch], error: type, pattern: str, **limits: Any
) -> Any:
    return pytest.param(op, make, error, pattern, limits, id=pattern[:50])


BIG = "x" * 2000
CASES = [
    # columns
    fail_case(Op.ADD, lambda: with_cols(foo=pa.array([1, 2, 3])), InvalidArgumentError,
              "Unknown column(s) in write batch: 'foo'"),
    fail_case(Op.ADD, lambda: with_cols(label=pa.array([1, 2, 3])), InvalidArgumentError,
              "Unknown column(s) in write batch: 'label'"),
    fail_case(Op.ADD, lambda: with_cols(q__year=pa.array([1, 2, 3])), InvalidArgumentError,
              "Unknown column(s) in write batch: 'q:year'"),
    fail_case(Op.ADD, lambda: pa.RecordBatch.from_arrays(
        [pa.array(["a"]), pa.array(["b"])], names=["id", "id"]), InvalidArgumentError,
              "Duplicate column(s) in write batch: id"),
    fail_case(Op.ADD, lambda: with_cols(id=None), InvalidArgumentError,
              "Write batch has no id column"),
    fail_case(Op.DELETE, lambda: with_cols(), InvalidArgumentError,
              "A delete batch carries only the id column, got: embedding, document"),
    fail_case(Op.ADD, lambda: with_cols(x__genre=pa.array([True] * 3)), InvalidArgumentError,
              "Unset columns are only allowed in update and upsert, got x:genre in add"),
    fail_case(Op.DELETE, lambda: batch({"id": pa.array(["a"]), "x:k": pa.array([True])}),
              InvalidArgumentError, "A delete batch carries only the id column, got: x:k"),
    # ids
    fail_case(Op.ADD, lambda: with_cols(id=pa.array([1, 2, 3])), InvalidArgumentError,
              "Column id must be utf8 strings, got int64"),
    fail_case(Op.ADD, lambda: with_cols(id=pa.array(["a", None, "c"])), InvalidArgumentError,
              "Expected ID to be a str, got None (record 1)"),
    fail_case(Op.ADD, lambda: with_cols(id=pa.array(["a", "", "c"])), InvalidArgumentError,
              "Empty ID, ID must have at least one character"),
    fail_case(Op.DELETE, lambda: batch({"id": pa.array(["ok", BIG])}), QuotaError,
              "Byte length of id 'xxx", max_id_bytes=1024),
    fail_case(Op.ADD, lambda: with_cols(id=pa.array(["a", "b", "a"])), DuplicateIDError,
              "Expected IDs to be unique, found duplicates of: a"),
    fail_case(Op.DELETE, lambda: batch({"id": pa.array([str(i % 12) for i in range(24)])}),
              DuplicateIDError, "Expected IDs to be unique, found 12 duplicated IDs: 0, 1, 2, 3, 4,"
              " ..., 6, 7, 8, 9, 10"),
    # sizes
    fail_case(Op.ADD, lambda: with_cols(), BatchSizeExceededError,
              "Batch size is 3, over the limit max_batch_rows=2", max_batch_rows=2),
    fail_case(Op.ADD, lambda: batch({k: v.slice(0, 0) for k, v in canonical().items()}),
              InvalidArgumentError, "Expected IDs to be a non-empty list, got 0 IDs"),
    fail_case(Op.ADD, lambda: with_cols(), QuotaError,
              "Write batch size in bytes is ", max_batch_bytes=64),
    # embeddings
    fail_case(Op.ADD, lambda: with_cols(embedding=None), InvalidArgumentError,
              "Expected embeddings for every record in add: the batch has no embedding column"),
    fail_case(Op.UPSERT, lambda: with_cols(embedding=None), InvalidArgumentError,
              "Expected embeddings for every record in upsert: the batch has no embedding column"),
    fail_case(Op.ADD, lambda: with_cols(embedding=fsl([[1, 2, 3], None, [1, 2, 3]])),
              InvalidArgumentError, "Expected embeddings for every record in add: record id 'r1' "
              "has none (1 of 3 records missing)"),
    fail_case(Op.UPSERT, lambda: with_cols(embedding=fsl([None, None, [1, 2, 3]])),
              InvalidArgumentError, "record id 'r0' has none (2 of 3 records missing)"),
    fail_case(Op.ADD, lambda: with_cols(embedding=pa.array([["a"]] * 3)), InvalidArgumentError,
              "Column embedding must be fixed_size_list<float32>[dim] (or a list of floats or "
              "ints), got list<item: string>"),
    fail_case(Op.ADD, lambda: with_cols(embedding=fsl([[1, 2, 3]] * 3, typ=pa.int8())),
              InvalidArgumentError, "Column embedding must be fixed_size_list"),
    fail_case(Op.ADD, lambda: with_cols(embedding=pa.array([1.0, 2.0, 3.0])),
              InvalidArgumentError, "Column embedding must be fixed_size_list"),
    fail_case(Op.ADD, lambda: with_cols(embedding=fsl([[1.0, 2.0]] * 3, 2)),
              InvalidDimensionException, "Collection expecting embedding with dimension of 3, got 2"),
    fail_case(Op.UPDATE, lambda: with_cols(embedding=fsl([[1.0] * 4, None, None], 4)),
              InvalidDimensionException, "Collection expecting embedding with dimension of 3, got 4"),
    fail_case(Op.ADD, lambda: with_cols(embedding=fsl([[1.0] * 4] * 3, 4)), QuotaError,
              "Embedding dimension is 4, over the limit max_dimension=3", max_dimension=3),
    fail_case(Op.ADD, lambda: with_cols(embedding=pa.array([[1.0, 2.0, 3.0], [1.0], [1.0]])),
              InvalidArgumentError, "Inconsistent dimensions in provided embeddings (lengths 1 to 3)"),
    fail_case(Op.ADD, lambda: with_cols(embedding=pa.array([[]] * 3, pa.list_(pa.float32()))),
              InvalidArgumentError, "Expected each embedding in the embeddings to be a "
              "1-dimensional numpy array with at least 1 int/float value"),
    fail_case(Op.ADD, lambda: with_cols(embedding=fsl([[1, 2, 3], [1, float("nan"), 3], [1, 2, 3]])),
              InvalidArgumentError, "Validation error: embeddings: Embeddings must not contain NaN "
              "or Infinity values (record id 'r1')"),
    fail_case(Op.ADD, lambda: with_cols(embedding=fsl([[1, 2, 3], [1, 2, 3], [float("-inf"), 2, 3]])),
              InvalidArgumentError, "must not contain NaN or Infinity values (record id 'r2')"),
    fail_case(Op.ADD, lambda: with_cols(embedding=fsl([[1e39, 2, 3]] * 3, typ=pa.float64())),
              InvalidArgumentError, "must not contain NaN or Infinity values (record id 'r0')"),
    fail_case(Op.UPDATE, lambda: with_cols(embedding=fsl([None, None, [1, float("inf"), 3]])),
              InvalidArgumentError, "must not contain NaN or Infinity values (record id 'r2')"),
    fail_case(Op.ADD, lambda: with_cols(embedding=fsl([[1, 2, 3], [1, None, 3], [1, 2, 3]])),
              InvalidArgumentError, "Embedding of record id 'r1' contains null values"),
    # documents
    fail_case(Op.ADD, lambda: with_cols(document=pa.array([1, 2, 3])), InvalidArgumentError,
              "Column document must be utf8 strings, got int64"),
    fail_case(Op.ADD, lambda: with_cols(document=pa.array(["a", "b", "x" * 101])), QuotaError,
              "Byte length of the document of record id 'r2' is 101, over the limit "
              "max_document_bytes=100", max_document_bytes=100),
    # metadata
    fail_case(Op.ADD, lambda: with_cols(i__year=pa.array(["1990", None, None])),
              InvalidArgumentError, "Metadata column 'i:year' must be int64, got string"),
    fail_case(Op.ADD, lambda: with_cols(b__ok=pa.array([1, 0, 1])), InvalidArgumentError,
              "Metadata column 'b:ok' must be bool, got int64"),
    fail_case(Op.ADD, lambda: with_cols(li__n=pa.array([[1.5], None, None])), InvalidArgumentError,
              "Metadata column 'li:n' must be list<item: int64>, got list<item: double>"),
    fail_case(Op.ADD, lambda: with_cols(i__n=pa.array([2**63, None, 1], pa.uint64())), InvalidArgumentError,
              "Metadata column 'i:n' cannot be int64"),
    fail_case(Op.ADD, lambda: with_cols(**{"s:": pa.array([None, "v", None])}), InvalidArgumentError,
              "Validation error: metadatas: Invalid metadata at index 1: Metadata key cannot be empty"),
    fail_case(Op.ADD, lambda: with_cols(**{"s:#k": pa.array(["v", None, None])}), InvalidArgumentError,
              "Invalid metadata at index 0: Metadata key cannot start with '#' or '$': #k"),
    fail_case(Op.UPDATE, lambda: with_cols(**{"x:$k": pa.array([None, None, True])}),
              InvalidArgumentError, "Invalid metadata at index 2: Metadata key cannot start with '#' "
              "or '$': $k (column 'x:$k')"),
    fail_case(Op.ADD, lambda: with_cols(**{"s:chroma:document": pa.array(["v"] * 3)}),
              InvalidArgumentError, "Expected metadata to not contain the reserved key chroma:document"),
    fail_case(Op.ADD, lambda: with_cols(f__year=pa.array([None, 2.5, 3.5])), InvalidArgumentError,
              "Metadata key 'year' has more than one typed value for record id 'r1'"),
    fail_case(Op.ADD, lambda: with_cols(s__genre=pa.array(["a", "b" * 11, None])), QuotaError,
              "Byte length of metadata value 'genre' of record id 'r1' is 11, over the limit "
              "max_metadata_value_bytes=10", max_metadata_value_bytes=10),
    fail_case(Op.ADD, lambda: with_cols(ls__tags=pa.array([["a"], None, ["b", "c" * 11]])),
              QuotaError, "Byte length of metadata value 'tags' of record id 'r2' is 11",
              max_metadata_value_bytes=10),
    fail_case(Op.ADD, lambda: with_cols(li__n=pa.array([[1], [], None], pa.list_(pa.int64()))),
              InvalidArgumentError, "Expected metadata list value for key 'n' to be non-empty "
              "(record id 'r1')"),
    fail_case(Op.ADD, lambda: with_cols(lb__n=pa.array([[True, None], None, None])),
              InvalidArgumentError, "Expected metadata list value for key 'n' to contain only str, "
              "int, float, or bool and all elements must be the same type, got a null element"),
    fail_case(Op.ADD, lambda: with_cols(b__ok=pa.array([True, None, None])), QuotaError,
              "Metadata keys of record id 'r0' is 4, over the limit max_metadata_keys=3",
              max_metadata_keys=3),
    fail_case(Op.UPDATE, lambda: with_cols(x__genre=pa.array([False, None, True])),
              InvalidArgumentError, "Metadata key 'genre' is both set and unset for record id 'r2'"),
    fail_case(Op.UPSERT, lambda: with_cols(x__genre=pa.array([1, 0, 1])), InvalidArgumentError,
              "Unset column 'x:genre' must be bool, got int64"),
]  # fmt: skip


@pytest.mark.parametrize("op, make, error, pattern, limits", CASES)
def test_rejects(
    op: Op, make: Callable[[], pa.RecordBatch], error: type, pattern: str, limits: dict[str, Any]
) -> None:
    b = make()
    with pytest.raises(error, match=re.escape(pattern)) as info:
        check(op, b, **limits)
    assert type(info.value) is error


def test_quota_errors_name_limit_value_and_maximum() -> None:
    with pytest.raises(QuotaError) as info:
        check(Op.DELETE, batch({"id": pa.array(["a", "é" * 600])}), max_id_bytes=1000)
    assert (info.value.limit, info.value.value, info.value.maximum) == ("max_id_bytes", 1200, 1000)
    assert info.value.details == {"limit": "max_id_bytes", "value": 1200, "maximum": 1000}
    with pytest.raises(BatchSizeExceededError) as big:
        check(Op.DELETE, batch({"id": pa.array(["a", "b", "c"])}), max_batch_rows=2)
    assert (big.value.limit, big.value.value, big.value.maximum) == ("max_batch_rows", 3, 2)


def test_limits_at_the_maximum_pass() -> None:
    b = with_cols(id=pa.array(["a" * 10, "b", "c"]), document=pa.array(["x" * 20, None, None]))
    check(Op.ADD, b, max_id_bytes=10, max_document_bytes=20, max_batch_rows=3, max_dimension=3)


def test_duplicate_message_matches_chroma_format() -> None:
    assert (
        duplicate_ids_message(["a", "b"]) == "Expected IDs to be unique, found duplicates of: a, b"
    )
    many = [f"d{i}" for i in range(15)]
    assert duplicate_ids_message(many) == (
        "Expected IDs to be unique, found 15 duplicated IDs: d0, d1, d2, d3, d4, ..., d6, d7, d8, "
        "d9, d10"
    )


def test_sliced_batches_are_checked_on_their_own_rows() -> None:
    cols = canonical()
    cols["embedding"] = fsl([[float("nan"), 1, 2], [1, 2, 3], [4, 5, 6]])
    out = check(Op.ADD, batch(cols).slice(1, 2))
    assert out.column("id").to_pylist() == ["r1", "r2"]
    assert out.column("embedding").to_pylist() == [[1, 2, 3], [4, 5, 6]]


def _mixed_batch(n: int, d: int) -> pa.RecordBatch:
    vectors = np.random.default_rng(0).standard_normal((n, d)).astype(np.float32)
    return batch(
        {
            "id": pa.array([f"id{i}" for i in range(n)]),
            "embedding": pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), d),
            "s:genre": pa.array([f"g{i % 7}" for i in range(n)]),
            "i:year": pa.array(np.arange(n) % 30 + 1990),
            "f:score": pa.array(np.arange(n) * 0.5),
            "b:ok": pa.array(np.arange(n) % 2 == 0),
        }
    )


def test_validation_is_columnar() -> None:
    # no per-record Python: validating 10x the rows makes the same calls (speed: the ingest phase
    # of benchmarks/bench_engine.py)
    small, large = _mixed_batch(1_000, 384), _mixed_batch(10_000, 384)
    assert python_calls(lambda: check(Op.ADD, large, 384)) == python_calls(
        lambda: check(Op.ADD, small, 384)
    )
