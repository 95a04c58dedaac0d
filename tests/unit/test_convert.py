"""SDK conversion: Chroma 1.5.9's accepted inputs, its messages, and its result dict shapes.

Expected messages and result dicts were recorded by running chromadb 1.5.9 (EphemeralClient) on
the same inputs; where FletchDB differs on purpose the test says so.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from fletchdb.convert import (
    get_result,
    metadatas_from_table,
    normalize_embeddings,
    query_result,
    to_write_batch,
    validate_include,
    validate_limit_offset,
    validate_n_results,
)

from flight_server.arguments.validate import validate_write_batch
from flight_server.config import Settings
from flight_server.errors import (
    DuplicateIDError,
    InvalidArgumentError,
    InvalidArgumentOverflowError,
    InvalidArgumentTypeError,
    QuotaError,
)
from flight_server.schema import Op
from tests.support.calls import python_calls

F32 = pa.list_(pa.float32(), 3)

ACCEPTED_EMBEDDINGS = [
    pytest.param([[1, 2, 3], [4, 5, 6]], id="list of int lists"),
    pytest.param([[1.0, 2.5, 3], [4, 5, 6]], id="list of mixed number lists"),
    pytest.param(np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float64), id="np float64 2-D"),
    pytest.param(np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32), id="np float32 2-D"),
    pytest.param(np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float16), id="np float16 2-D"),
    pytest.param(np.array([[1, 2, 3], [4, 5, 6]], dtype=np.int32), id="np int32 2-D"),
    pytest.param(np.array([[1, 2, 3], [4, 5, 6]], dtype=np.int64), id="np int64 2-D"),
    pytest.param(np.asfortranarray(np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32)), id="F"),
    pytest.param(np.array([[9, 9, 9, 9], [1, 2, 3, 0], [4, 5, 6, 0]])[1:, :3], id="np view"),
    pytest.param([np.array([1, 2, 3]), np.array([4.0, 5, 6], dtype=np.float32)], id="np rows"),
    pytest.param([[1, 2, 3], np.array([4.0, 5, 6])], id="list and np rows"),
]


@pytest.mark.parametrize("embeddings", ACCEPTED_EMBEDDINGS)
def test_accepted_embeddings(embeddings: Any) -> None:
    batch = to_write_batch(Op.ADD, ["a", "b"], embeddings)
    assert batch.schema.names == ["id", "embedding"]
    assert batch.schema.field("embedding").type == F32
    second = 2.5 if isinstance(embeddings, list) and embeddings[0][1] == 2.5 else 2.0
    assert batch.column(1).to_pylist() == [[1.0, second, 3.0], [4.0, 5.0, 6.0]]


@pytest.mark.parametrize(
    "embeddings",
    [[1, 2, 3], [1.0, 2.0, 3.0], np.array([1, 2, 3.0]), np.array([1, 2, 3], dtype=np.int64)],
    ids=["int list", "float list", "np 1-D float", "np 1-D int"],
)
def test_one_vector(embeddings: Any) -> None:
    batch = to_write_batch(Op.ADD, "a", embeddings)
    assert batch.column("id").to_pylist() == ["a"]
    assert batch.column("embedding").to_pylist() == [[1.0, 2.0, 3.0]]


def test_float32_input_is_copied_unless_copy_false() -> None:
    vectors = np.ones((4, 3), dtype=np.float32)
    ids = list("abcd")
    shared = to_write_batch(Op.ADD, ids, vectors, copy=False).column(1).values
    copied = to_write_batch(Op.ADD, ids, vectors).column(1).values
    address = vectors.__array_interface__["data"][0]
    assert shared.buffers()[1].address == address
    assert copied.buffers()[1].address != address


def test_float64_overflow_becomes_inf_and_the_engine_rejects_it() -> None:
    batch = to_write_batch(Op.ADD, "a", [[2.5e39, 1, 2]])
    assert batch.column(1).to_pylist() == [[float("inf"), 1.0, 2.0]]
    with pytest.raises(InvalidArgumentError, match="must not contain NaN or Infinity"):
        validate_write_batch(Op.ADD, batch, 3, Settings())


def test_full_batch_shape_and_columns() -> None:
    batch = to_write_batch(
        Op.ADD,
        ["a", "b", "c"],
        [[1, 2, 3]] * 3,
        [{"x": 1, "b": True, "f": 1.5, "s": "hi", "l": [1, 2], "lb": [True]}, None, {"x": 2.5}],
        ["d1", None, "d3"],
    )
    assert batch.schema.names == [
        "id", "embedding", "document", "b:b", "f:f", "li:l", "lb:lb", "s:s", "f:x", "i:x",
    ]  # fmt: skip
    assert not batch.schema.field("id").nullable
    assert batch.column("b:b").type == pa.bool_()
    assert batch.column("i:x").to_pylist() == [1, None, None]
    assert batch.column("f:x").to_pylist() == [None, None, 2.5]
    assert batch.column("document").to_pylist() == ["d1", None, "d3"]
    assert validate_write_batch(Op.ADD, batch, 3, Settings()) is batch


def test_single_values_are_wrapped() -> None:
    batch = to_write_batch(Op.ADD, "a", [1, 2, 3], {"k": 1}, "doc")
    assert batch.to_pydict() == {
        "id": ["a"], "embedding": [[1.0, 2.0, 3.0]], "document": ["doc"], "i:k": [1],
    }  # fmt: skip


@pytest.mark.parametrize("op", [Op.UPDATE, Op.UPSERT])
def test_none_value_unsets_the_key_in_update_and_upsert(op: Op) -> None:
    emb = [[1, 2, 3]] * 2 if op is Op.UPSERT else None
    batch = to_write_batch(op, ["a", "b"], emb, [{"x": None, "z": 5}, None])
    assert batch.column("x:x").to_pylist() == [True, None]
    assert batch.column("i:z").to_pylist() == [5, None]
    assert batch.schema.names[-1] == "x:x"
    assert validate_write_batch(op, batch, 3, Settings()) is batch


def test_update_without_embeddings_or_documents() -> None:
    batch = to_write_batch(Op.UPDATE, ["a"], metadatas=[{"q": 1}])
    assert batch.schema.names == ["id", "i:q"]


def test_delete_batch_has_only_ids() -> None:
    batch = to_write_batch(Op.DELETE, ["a", "b"])
    assert batch.schema.names == ["id"]
    with pytest.raises(InvalidArgumentError, match=re.escape("A delete takes only ids in delete.")):
        to_write_batch(Op.DELETE, ["a"], documents=["x"])


def test_bool_is_never_int_and_int64_bounds_are_kept() -> None:
    batch = to_write_batch(
        Op.ADD, ["a", "b"], [[1, 2, 3]] * 2,
        [{"v": True, "w": [False, True], "big": 2**63 - 1}, {"v": 1, "big": -(2**63)}],
    )  # fmt: skip
    assert batch.column("b:v").to_pylist() == [True, None]
    assert batch.column("i:v").to_pylist() == [None, 1]
    assert batch.column("lb:w").to_pylist() == [[False, True], None]
    assert batch.column("i:big").to_pylist() == [2**63 - 1, -(2**63)]


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 2**70, [1, 2**64]])
def test_ints_beyond_int64_are_refused_not_made_floats(value: object) -> None:
    """Chroma stores them as lossy floats; FletchDB refuses them (docs/chroma-compat.md)."""
    with pytest.raises(InvalidArgumentOverflowError, match="to fit in 64 bits") as info:
        to_write_batch(Op.ADD, ["a"], [[1, 2, 3]], [{"big": value}])
    assert isinstance(info.value, OverflowError) and isinstance(info.value, ValueError)
    assert str(info.value).endswith(" in add.")


def test_numpy_float_values_are_floats() -> None:
    batch = to_write_batch(Op.ADD, "a", [1, 2, 3], {"f": np.float64(3.5)})
    assert batch.column("f:f").to_pylist() == [3.5]


W = " in add."
REJECTED = [
    # (op, kwargs, error class, exact message) -- messages recorded from chromadb 1.5.9
    (Op.ADD, dict(ids=["e", "e"], embeddings=[[1, 2, 3]] * 2), DuplicateIDError,
     "Expected IDs to be unique, found duplicates of: e in add."),
    (Op.UPDATE, dict(ids=["a", "a"], metadatas=[{"q": 1}] * 2), DuplicateIDError,
     "Expected IDs to be unique, found duplicates of: a in update."),
    (Op.DELETE, dict(ids=["a", "a"]), DuplicateIDError,
     "Expected IDs to be unique, found duplicates of: a in delete."),
    (Op.ADD, dict(ids=[1], embeddings=[[1, 2, 3]]), InvalidArgumentError,
     "Expected ID to be a str, got 1 in add."),
    (Op.ADD, dict(ids=["ok", 3], embeddings=[[1, 2]] * 2), InvalidArgumentError,
     "Expected ID to be a str, got 3 in add."),
    (Op.ADD, dict(ids=("q",), embeddings=[[1, 2, 3]]), InvalidArgumentError,
     "Expected ID to be a str, got ('q',) in add."),
    (Op.ADD, dict(ids=None, embeddings=[[1, 2, 3]]), InvalidArgumentError,
     "Expected IDs to be a list, got NoneType as IDs in add."),
    (Op.ADD, dict(ids=[], embeddings=[]), InvalidArgumentError,
     "Expected Embeddings to be non-empty list or numpy array, got [] in add."),
    (Op.ADD, dict(ids=[], embeddings=np.zeros((0, 3))), InvalidArgumentError,
     "Expected Embeddings to be non-empty list or numpy array, got [] in add."),
    (Op.DELETE, dict(ids=[]), InvalidArgumentError,
     "Expected IDs to be a non-empty list, got 0 IDs in delete."),
    (Op.UPDATE, dict(ids=[], metadatas=None), InvalidArgumentError,
     "Non-empty lists are required for ['ids'] in update."),
    (Op.ADD, dict(ids=["p", "q"], embeddings=[[1, 2, 3]]), InvalidArgumentError,
     "Unequal lengths for fields: ids: 2, embeddings: 1 in add."),
    (Op.ADD, dict(ids=["p", "q"], embeddings=[[1, 2, 3]] * 2, documents=["x"]),
     InvalidArgumentError, "Unequal lengths for fields: ids: 2, embeddings: 2, documents: 1 in add."),
    (Op.ADD, dict(ids=["p", "q"], embeddings=[[1, 2, 3]] * 2, metadatas=[{"a": 1}]),
     InvalidArgumentError, "Unequal lengths for fields: ids: 2, metadatas: 1, embeddings: 2 in add."),
    (Op.ADD, dict(ids=["z1", "z2"], embeddings=np.array([1, 2, 3.0])), InvalidArgumentError,
     "Unequal lengths for fields: ids: 2, embeddings: 1 in add."),
    (Op.ADD, dict(ids=["p"], embeddings=[[1, 2, 3]], metadatas=[{}]), InvalidArgumentError,
     "Expected metadata to be a non-empty dict, got 0 metadata attributes in add."),
    (Op.UPDATE, dict(ids=["p"], metadatas=[{"chroma:document": "x"}]), InvalidArgumentError,
     "Expected metadata to not contain the reserved key chroma:document in update."),
    (Op.ADD, dict(ids=["p"], embeddings=[[1, 2, 3]], metadatas=[{1: "x"}]), InvalidArgumentTypeError,
     "Expected metadata key to be a str, got 1 which is a int in add."),
    (Op.ADD, dict(ids=["p"], embeddings=[[1, 2, 3]], metadatas=[{"a": {"b": 1}}]),
     InvalidArgumentError, "Expected metadata value to be a str, int, float, bool, SparseVector, "
     "list, or None, got {'b': 1} which is a dict in add."),
    (Op.ADD, dict(ids=["p"], embeddings=[[1, 2, 3]], metadatas=[{"f": (1, 2)}]),
     InvalidArgumentError, "got (1, 2) which is a tuple in add."),
    (Op.ADD, dict(ids=["p"], embeddings=[[1, 2, 3]], metadatas=[{"f": np.int64(3)}]),
     InvalidArgumentError, "got 3 which is a int64 in add."),
    (Op.ADD, dict(ids=["p"], embeddings=[[1, 2, 3]], metadatas=[{"a": []}]), InvalidArgumentError,
     "Expected metadata list value for key 'a' to be non-empty in add."),
    (Op.ADD, dict(ids=["p"], embeddings=[[1, 2, 3]], metadatas=[{"a": [1, "x"]}]),
     InvalidArgumentError, "Expected metadata list value for key 'a' to contain only str, int, "
     "float, or bool and all elements must be the same type, got [1, 'x'] in add."),
    (Op.ADD, dict(ids=["p"], embeddings=[[1, 2, 3]], metadatas=[{"a": [1, True]}]),
     InvalidArgumentError, "all elements must be the same type, got [1, True] in add."),
    (Op.ADD, dict(ids=["p"], embeddings=[[1, 2, 3]], metadatas=[{"f": [1, 2.0]}]),
     InvalidArgumentError, "all elements must be the same type, got [1, 2.0] in add."),
    (Op.ADD, dict(ids=["p"], embeddings=[[1, 2, 3]], metadatas=[{"f": [None]}]),
     InvalidArgumentError, "all elements must be the same type, got [None] in add."),
    (Op.ADD, dict(ids=["p"], embeddings=[[1, 2, 3]], metadatas=[{"f": [[1]]}]),
     InvalidArgumentError, "all elements must be the same type, got [[1]] in add."),
    # Chroma 1.5.9 raises AttributeError "'str' object has no attribute 'items' in add." here.
    (Op.ADD, dict(ids=["p"], embeddings=[[1, 2, 3]], metadatas=["x"]), InvalidArgumentError,
     "Expected metadata to be a dict or None, got str as metadata in add."),
    # Chroma 1.5.9 rejects None values in add with this TypeError's first sentence only.
    (Op.ADD, dict(ids=["p"], embeddings=[[1, 2, 3]], metadatas=[{"a": None}]), InvalidArgumentTypeError,
     "argument 'metadatas': Cannot convert Python object to MetadataValue: None value for key 'a' "
     "(None removes a key only in update and upsert) in add."),
    (Op.ADD, dict(ids=["p"], embeddings=[[1, 2, 3]], documents=[1]), InvalidArgumentError,
     "Expected document to be a str, got 1 in add."),
    (Op.ADD, dict(ids=["d3"], embeddings=[[1, 2, 3]], documents=("x",)), InvalidArgumentError,
     "Expected document to be a str, got ('x',) in add."),
    (Op.UPDATE, dict(ids=["d3"], documents=[None]), InvalidArgumentError,
     "Expected document to be a str, got None in update."),
    (Op.ADD, dict(ids=["p"], embeddings="abc"), InvalidArgumentError,
     "Expected embeddings to be a list of floats or ints, a list of lists, a numpy array, or a "
     "list of numpy arrays, got abc in add."),
    (Op.ADD, dict(ids=["p"], embeddings=[[True, False, True]]), InvalidArgumentError,
     "a list of numpy arrays, got [[True, False, True]] in add."),
    (Op.ADD, dict(ids=["t1"], embeddings=(1.0, 2.0)), InvalidArgumentError,
     "a list of numpy arrays, got (1.0, 2.0) in add."),
    (Op.ADD, dict(ids=["t1"], embeddings=[(1.0, 2.0)]), InvalidArgumentError,
     "a list of numpy arrays, got [(1.0, 2.0)] in add."),
    (Op.ADD, dict(ids=["t2"], embeddings=[np.float32(1.0), np.float32(2.0)]),
     InvalidArgumentError, "got [np.float32(1.0), np.float32(2.0)] in add."),
    (Op.ADD, dict(ids=["x1"], embeddings=[["a", "b", "c"]]), InvalidArgumentError,
     "a list of numpy arrays, got [['a', 'b', 'c']] in add."),
    (Op.ADD, dict(ids=["np3"], embeddings=np.zeros((1, 1, 3))), InvalidArgumentError,
     "a list of numpy arrays, got [[[0. 0. 0.]]] in add."),
    (Op.ADD, dict(ids=["x1", "x2"], embeddings=[[1, 2, 3], "abc"]), InvalidArgumentError,
     "could not convert string to float: 'abc' in add."),
    (Op.ADD, dict(ids=["i8"], embeddings=np.array([[1, 2, 3]], dtype=np.int8)),
     InvalidArgumentError, "Expected each value in the embedding to be a int or float, got an "
     "embedding with int8 - [1 2 3] in add."),
    (Op.ADD, dict(ids=["ob"], embeddings=np.array([[1, 2, 3]], dtype=object)),
     InvalidArgumentError, "got an embedding with object - [1 2 3] in add."),
    (Op.ADD, dict(ids=["e1"], embeddings=np.zeros((1, 0))), InvalidArgumentError,
     "Expected each embedding in the embeddings to be a 1-dimensional numpy array with at least 1 "
     "int/float value. Got a 1-dimensional numpy array with no values at pos 0 in add."),
    # Chroma lists the type names in set order (varies between runs); FletchDB sorts them.
    (Op.ADD, dict(ids=["x1", "x2"], embeddings=[np.array([1, 2]), [1, 2]]), InvalidArgumentError,
     "Expected each embedding in the embeddings to be a numpy array, got ['list', 'ndarray'] in "
     "add."),
    (Op.ADD, dict(ids=["x1", "x2"], embeddings=[[1, 2, 3], None]), InvalidArgumentError,
     "Expected a 1-dimensional array, got a 0-dimensional array nan in add."),
    (Op.ADD, dict(ids=["r1", "r2"], embeddings=[[1, 2, 3], [1, 2, 3, 4]]), InvalidArgumentError,
     "Inconsistent dimensions in provided embeddings"),
    (Op.ADD, dict(ids=["r1", "r2"], embeddings=[np.ones(3), np.ones(4)]), InvalidArgumentError,
     "Inconsistent dimensions in provided embeddings"),
    (Op.ADD, dict(ids=["p"]), InvalidArgumentError,
     "Exactly one of documents, images, uris must be provided in add."),
    (Op.UPSERT, dict(ids=["a"], metadatas=[{"q": 1}]), InvalidArgumentError,
     "Exactly one of documents, images must be provided in upsert."),
    (Op.ADD, dict(ids=["p"], documents=["text"]), InvalidArgumentError,
     "You must provide an embedding function to compute embeddings."
     "https://docs.trychroma.com/guides/embeddings in add."),
]  # fmt: skip


@pytest.mark.parametrize("op, kwargs, error, message", REJECTED, ids=[r[3][-60:] for r in REJECTED])
def test_rejects_with_chromas_message(
    op: Op, kwargs: dict[str, Any], error: type, message: str
) -> None:
    with pytest.raises(error) as info:
        to_write_batch(op, **kwargs)
    assert type(info.value) is error
    assert str(info.value).endswith(message)
    if message[0].isupper() or message.startswith("argument") or message.startswith("could"):
        assert str(info.value) == message


def test_many_duplicates_message() -> None:
    with pytest.raises(DuplicateIDError) as info:
        to_write_batch(Op.ADD, [str(i % 12) for i in range(24)], [[1, 2, 3]] * 24)
    assert str(info.value) == (
        "Expected IDs to be unique, found 12 duplicated IDs: 0, 1, 2, 3, 4, ..., 6, 7, 8, 9, 10 "
        "in add."
    )


def test_error_classes_are_valueerrors_like_chromas() -> None:
    with pytest.raises(ValueError):
        to_write_batch(Op.ADD, ["a", "a"], [[1, 2, 3]] * 2)


def test_embedding_conversion_is_columnar() -> None:
    # speed: benchmarks/bench_flight.py reports the conversion time of every ingest batch; here: no
    # per-row Python on the way (10x the rows, the same calls)
    rng = np.random.default_rng(0)
    small, large = rng.standard_normal((1_000, 384)), rng.standard_normal((10_000, 384))
    ids = [f"id{i}" for i in range(10_000)]
    assert python_calls(lambda: to_write_batch(Op.ADD, ids, large)) == python_calls(
        lambda: to_write_batch(Op.ADD, ids[:1_000], small)
    )
    batch = to_write_batch(Op.ADD, ids[:1_000], small)
    assert batch.column(1).type == pa.list_(pa.float32(), 384)
    flat = batch.column(1).values.to_numpy()
    assert np.array_equal(flat, small.astype(np.float32).reshape(-1))


@pytest.mark.parametrize(
    "embeddings", [[1, 2, 3], [[1, 2, 3]], np.array([1.0, 2, 3]), [np.array([1, 2, 3])]]
)
def test_normalize_query_embeddings(embeddings: Any) -> None:
    out = normalize_embeddings(embeddings)
    assert out.dtype == np.float32 and out.flags.c_contiguous and out.tolist() == [[1, 2, 3]]


def test_normalize_query_embeddings_errors() -> None:
    with pytest.raises(InvalidArgumentError) as info:
        normalize_embeddings([])
    assert str(info.value) == (
        "Expected Embeddings to be non-empty list or numpy array, got [] in query."
    )
    with pytest.raises(InvalidArgumentError, match="^Inconsistent dimensions in provided"):
        normalize_embeddings([[1, 2], [1, 2, 3]])


# ----------------------------------------------------------------------------- results
def records(with_embeddings: bool = True) -> pa.Table:
    batch = to_write_batch(
        Op.ADD, ["a", "b"], [[1, 2, 3], [4, 5, 6]],
        [{"x": 1, "b": True, "f": 1.5, "s": "hi", "l": [1, 2]}, None], ["d1", None],
    )  # fmt: skip
    table = pa.Table.from_batches([batch])
    return table if with_embeddings else table.drop_columns(["embedding"])


META_A = {"x": 1, "b": True, "f": 1.5, "s": "hi", "l": [1, 2]}
GET_KEYS = ["ids", "embeddings", "documents", "uris", "included", "data", "metadatas"]


def test_get_result_default_include() -> None:
    result = get_result(records(False), ["metadatas", "documents"])
    assert list(result) == GET_KEYS
    assert result == {
        "ids": ["a", "b"], "embeddings": None, "documents": ["d1", None], "uris": None,
        "included": ["metadatas", "documents"], "data": None, "metadatas": [META_A, None],
    }  # fmt: skip


def test_get_result_everything() -> None:
    result = get_result(records(), ["embeddings", "metadatas", "documents", "uris"])
    emb = result.pop("embeddings")
    assert isinstance(emb, np.ndarray) and emb.dtype == np.float64 and emb.shape == (2, 3)
    assert emb.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert result["uris"] == [None, None]
    assert result["included"] == ["embeddings", "metadatas", "documents", "uris"]


def test_get_result_nothing_included() -> None:
    result = get_result(records(), [])
    assert result == {
        "ids": ["a", "b"], "embeddings": None, "documents": None, "uris": None, "included": [],
        "data": None, "metadatas": None,
    }  # fmt: skip


def test_get_result_empty() -> None:
    result = get_result(records().slice(0, 0), ["embeddings", "metadatas", "documents", "uris"])
    emb = result.pop("embeddings")
    assert emb.shape == (0,) and emb.dtype == np.float64
    assert result == {
        "ids": [], "documents": [], "uris": [], "data": None, "metadatas": [],
        "included": ["embeddings", "metadatas", "documents", "uris"],
    }  # fmt: skip


def test_embeddings_of_a_sliced_chunked_table() -> None:
    table = pa.concat_tables([records(), records()]).slice(1, 2)
    emb = get_result(table, ["embeddings"])["embeddings"]
    assert emb.tolist() == [[4.0, 5.0, 6.0], [1.0, 2.0, 3.0]]


def with_distance(table: pa.Table, distances: list[float]) -> pa.Table:
    return table.append_column("distance", pa.array(distances, pa.float32()))


def test_query_result_shape() -> None:
    t1 = with_distance(records(), [0.0, 27.0])
    t2 = with_distance(records().take([1, 0]), [0.0, 27.0])
    result = query_result([t1, t2], ["metadatas", "documents", "distances"])
    assert list(result) == GET_KEYS + ["distances"]
    assert result == {
        "ids": [["a", "b"], ["b", "a"]], "embeddings": None,
        "documents": [["d1", None], [None, "d1"]], "uris": None,
        "included": ["metadatas", "documents", "distances"], "data": None,
        "metadatas": [[META_A, None], [None, META_A]], "distances": [[0.0, 27.0], [0.0, 27.0]],
    }  # fmt: skip
    assert type(result["distances"][0][1]) is float


def test_query_result_embeddings_and_empty_query() -> None:
    t1 = with_distance(records().slice(0, 1), [0.5])
    empty = with_distance(records().slice(0, 0), [])
    include = ["embeddings", "metadatas", "documents", "distances", "uris"]
    result = query_result([t1, empty], include)
    first, second = result.pop("embeddings")
    assert first.dtype == np.float64 and first.tolist() == [[1.0, 2.0, 3.0]]
    assert second.shape == (0,) and second.dtype == np.float64
    assert result == {
        "ids": [["a"], []], "documents": [["d1"], []], "uris": [[None], []], "included": include,
        "data": None, "metadatas": [[META_A], []], "distances": [[0.5], []],
    }  # fmt: skip


def test_metadatas_from_table_skips_unset_and_reserved_columns() -> None:
    table = pa.table(
        {
            "id": ["a", "b", "c"],
            "i:k": pa.array([1, None, None], pa.int64()),
            "b:k": pa.array([None, False, None]),
            "x:k": pa.array([None, None, True]),
            "label": pa.array([1, 2, 3], pa.uint64()),
        }
    )
    assert metadatas_from_table(table) == [{"k": 1}, {"k": False}, None]
    assert type(metadatas_from_table(table)[1]["k"]) is bool


# ----------------------------------------------------------------------------- include & co
INCLUDE_ERRORS = [
    (["distances"], False, "Include item cannot be one of distances, got distances in get."),
    (["foo"], False, "Expected include item to be one of documents, embeddings, metadatas, "
     "distances, uris, data, got foo in get."),
    ("metadatas", False, "Expected include to be a list, got metadatas in get."),
    ([1], True, "Expected include item to be a str, got 1 in query."),
    (["data"], False, "You must set a data loader on the collection if loading from URIs. in get."),
]  # fmt: skip


@pytest.mark.parametrize("include, for_query, message", INCLUDE_ERRORS)
def test_validate_include_errors(include: Any, for_query: bool, message: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        validate_include(include, for_query)
    assert str(info.value) == message


def test_validate_include_defaults_and_data() -> None:
    assert validate_include(None, for_query=False) == ["metadatas", "documents"]
    assert validate_include(None, for_query=True) == ["metadatas", "documents", "distances"]
    assert validate_include(["distances", "embeddings"], True) == ["distances", "embeddings"]
    assert validate_include(["data"], False, has_data_loader=True) == ["data", "uris"]
    assert validate_include([], False) == []


def test_validate_n_results() -> None:
    assert validate_n_results(5) == 5
    assert validate_n_results(True) == 1  # Chroma accepts bools (isinstance(True, int))
    with pytest.raises(InvalidArgumentError) as zero:
        validate_n_results(0)
    assert (
        str(zero.value) == "Number of requested results 0, cannot be negative, or zero. in query."
    )
    with pytest.raises(ValueError) as text:
        validate_n_results("2")
    assert str(text.value) == "Expected requested number of results to be a int, got 2 in query."
    with pytest.raises(ValueError, match="got 1.0 in query"):
        validate_n_results(1.0)
    with pytest.raises(QuotaError, match="n_results is 11, over the limit max_n_results=10"):
        validate_n_results(11, maximum=10)


def test_validate_limit_offset() -> None:
    assert validate_limit_offset(None, None) == (None, 0)
    assert validate_limit_offset(0, 5) == (0, 5)
    assert validate_limit_offset(True, None) == (1, 0)
    with pytest.raises(InvalidArgumentError) as info:
        validate_limit_offset(1.5, None)
    assert str(info.value) == "argument 'limit': 'float' object cannot be interpreted as an integer"
    with pytest.raises(
        InvalidArgumentError, match="out of range integral type conversion attempted"
    ):
        validate_limit_offset(None, -1)
    with pytest.raises(QuotaError, match="limit is 11, over the limit max_get_limit=10"):
        validate_limit_offset(11, 0, max_limit=10)
