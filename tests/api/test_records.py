"""Records through the Collection API, with chromadb 1.5.9's semantics and result shapes."""

from __future__ import annotations

from typing import Any

import fletchdb
import numpy as np
import pytest

GET_KEYS = ["ids", "embeddings", "documents", "uris", "included", "data", "metadatas"]
QUERY_KEYS = [*GET_KEYS, "distances"]
ALL = ["embeddings", "documents", "metadatas"]


def _by_id(got: dict[str, Any]) -> dict[str, tuple[Any, Any, Any]]:
    """A GetResult as {id: (embedding, document, metadata)}, independent of record order."""
    return {
        i: (e, d, m)
        for i, e, d, m in zip(
            got["ids"], got["embeddings"].tolist(), got["documents"], got["metadatas"], strict=True
        )
    }


def _compacted(col: fletchdb.Collection, compact: bool) -> fletchdb.Collection:
    if compact:
        col.compact()
        assert col.stats()["tail_records"] == 0
    return col


# add / get ---------------------------------------------------------------------------------------
def test_add_then_get_round_trips_every_field(collection: fletchdb.Collection, records) -> None:
    records(collection)
    got = collection.get(include=ALL)
    assert list(got) == GET_KEYS
    assert got["ids"] == ["a", "b", "c"]
    assert got["documents"] == ["apple pie", "banana split", "cherry tart"]
    assert got["metadatas"] == [
        {"n": 1, "s": "x", "f": 0.5, "t": True},
        None,
        {"n": 3, "l": [1, 2]},
    ]
    meta = got["metadatas"][0]
    assert [type(meta[k]) for k in ("n", "s", "f", "t")] == [int, str, float, bool]
    assert isinstance(got["embeddings"], np.ndarray)
    assert got["embeddings"].dtype == np.float64
    np.testing.assert_array_equal(got["embeddings"], np.eye(3))
    assert got["included"] == ALL
    assert got["uris"] is None and got["data"] is None
    assert collection.count() == 3


def test_get_by_ids_where_limit_offset(collection: fletchdb.Collection, records) -> None:
    records(collection)
    assert collection.get(ids="b")["ids"] == ["b"]
    assert collection.get(ids=["c", "a", "zz"])["ids"] == ["a", "c"]  # insertion order
    assert collection.get(where={"n": {"$gte": 2}})["ids"] == ["c"]
    assert collection.get(where_document={"$contains": "an"})["ids"] == ["b"]
    assert collection.get(ids=["a", "b"], where={"s": "x"})["ids"] == ["a"]
    assert collection.get(limit=2)["ids"] == ["a", "b"]
    assert collection.get(offset=1)["ids"] == ["b", "c"]
    assert collection.get(limit=1, offset=1)["ids"] == ["b"]
    assert collection.get(limit=0)["ids"] == []
    assert collection.get(offset=10)["ids"] == []


def test_get_missing_ids_gives_empty_lists(collection: fletchdb.Collection, records) -> None:
    records(collection)
    got = collection.get(ids=["zz"])
    assert got == {
        "ids": [],
        "embeddings": None,
        "documents": [],
        "uris": None,
        "included": ["metadatas", "documents"],
        "data": None,
        "metadatas": [],
    }
    empty = collection.get(ids=["zz"], include=["embeddings"])["embeddings"]
    assert isinstance(empty, np.ndarray) and empty.dtype == np.float64 and empty.shape == (0,)


@pytest.mark.parametrize(
    "include",
    [[], ["embeddings"], ["documents"], ["metadatas"], ["uris"], ["metadatas", "embeddings"], ALL],
)
def test_include_controls_the_get_fields(
    collection: fletchdb.Collection, records, include: list[str]
) -> None:
    records(collection)
    got = collection.get(include=list(include))
    assert list(got) == GET_KEYS
    assert got["included"] == include
    assert got["ids"] == ["a", "b", "c"]
    for field in ("embeddings", "documents", "metadatas", "uris"):
        assert (got[field] is None) == (field not in include), field
    if "uris" in include:
        assert got["uris"] == [None, None, None]
    assert got["data"] is None


def test_get_default_include(collection: fletchdb.Collection, records) -> None:
    records(collection)
    got = collection.get()
    assert got["included"] == ["metadatas", "documents"]
    assert got["embeddings"] is None and got["documents"] is not None


def test_peek(collection: fletchdb.Collection) -> None:
    collection.add(ids=[f"r{i:02}" for i in range(15)], embeddings=np.ones((15, 2)))
    peek = collection.peek()
    assert peek["ids"] == [f"r{i:02}" for i in range(10)]
    assert peek["included"] == ["metadatas", "documents", "embeddings"]
    assert peek["embeddings"].shape == (10, 2)
    assert collection.peek(3)["ids"] == ["r00", "r01", "r02"]


# Embedding inputs --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "embeddings",
    [
        pytest.param([1.0, 2.5, -3.0], id="flat-list"),
        pytest.param([[1.0, 2.5, -3.0]], id="list-of-lists"),
        pytest.param([1, 2, -3], id="ints"),
        pytest.param(np.array([1.0, 2.5, -3.0]), id="numpy-1d"),
        pytest.param(np.array([[1.0, 2.5, -3.0]], dtype=np.float16), id="numpy-2d-f16"),
        pytest.param(np.array([[1.0, 2.5, -3.0]], dtype=np.float32), id="numpy-2d-f32"),
        pytest.param(np.array([[1.0, 2.5, -3.0]], dtype=np.float64), id="numpy-2d-f64"),
        pytest.param([np.array([1.0, 2.5, -3.0])], id="list-of-numpy"),
    ],
)
def test_one_embedding_in_any_accepted_form(collection: fletchdb.Collection, embeddings) -> None:
    collection.add(ids="only", embeddings=embeddings)
    got = collection.get(include=["embeddings"])["embeddings"]
    expected = [[1.0, 2.5, -3.0]] if not isinstance(embeddings[0], int) else [[1.0, 2.0, -3.0]]
    assert got.tolist() == expected


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_many_embeddings_as_2d_numpy(collection: fletchdb.Collection, dtype: type) -> None:
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(20, 5)).astype(dtype)
    collection.add(ids=[str(i) for i in range(20)], embeddings=vectors)
    got = collection.get(include=["embeddings"])["embeddings"]
    assert got.shape == (20, 5) and got.dtype == np.float64
    np.testing.assert_array_equal(got, vectors.astype(np.float32).astype(np.float64))


def test_the_callers_array_is_not_aliased(collection: fletchdb.Collection) -> None:
    vectors = np.ones((2, 3), dtype=np.float32)
    collection.add(ids=["a", "b"], embeddings=vectors)
    vectors[:] = 7.0
    assert collection.get(include=["embeddings"])["embeddings"].tolist() == [[1.0] * 3] * 2


# add / update / upsert / delete semantics ------------------------------------------------------------
@pytest.mark.parametrize("compact", [False, True], ids=["log-tail", "compacted"])
def test_adding_an_existing_id_is_ignored(
    collection: fletchdb.Collection, records, compact: bool
) -> None:
    records(collection)
    _compacted(collection, compact)
    collection.add(
        ids=["a", "d"],
        embeddings=[[9.0, 9.0, 9.0], [0.0, 1.0, 1.0]],
        documents=["replaced?", "date"],
        metadatas=[{"n": 99}, {"n": 4}],
    )
    got = collection.get(ids=["a", "d"], include=ALL)
    assert got["ids"] == ["a", "d"]
    assert got["documents"] == ["apple pie", "date"]
    assert got["metadatas"] == [{"n": 1, "s": "x", "f": 0.5, "t": True}, {"n": 4}]
    assert got["embeddings"].tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]]
    assert collection.count() == 4


@pytest.mark.parametrize("compact", [False, True], ids=["log-tail", "compacted"])
def test_updating_a_missing_id_is_a_no_op(
    collection: fletchdb.Collection, records, compact: bool
) -> None:
    records(collection)
    _compacted(collection, compact)
    before = collection.get(include=ALL)
    collection.update(ids=["zz"], embeddings=[[5.0, 5.0, 5.0]], metadatas=[{"n": 5}])
    collection.update(ids=["zz", "b"], metadatas=[{"n": 5}, {"n": 6}])  # only b exists
    after = _by_id(collection.get(include=ALL))
    assert sorted(after) == ["a", "b", "c"]
    assert collection.count() == 3
    before = _by_id(before)
    assert after["a"] == before["a"] and after["c"] == before["c"]
    assert after["b"] == (before["b"][0], before["b"][1], {"n": 6})
    assert collection.get(ids=["zz"])["ids"] == []


@pytest.mark.parametrize("compact", [False, True], ids=["log-tail", "compacted"])
def test_update_merges_metadata_and_none_removes_a_key(
    collection: fletchdb.Collection, records, compact: bool
) -> None:
    records(collection)
    _compacted(collection, compact)
    collection.update(ids=["a"], metadatas=[{"s": None, "n": 10, "new": "y"}])
    assert collection.get(ids=["a"])["metadatas"] == [{"n": 10, "f": 0.5, "t": True, "new": "y"}]
    collection.update(ids=["c"], metadatas=[{"n": None, "l": None}])  # every key removed
    assert collection.get(ids=["c"])["metadatas"] == [None]
    collection.update(ids=["b"], metadatas=[{"gone": None}])  # removing a missing key
    assert collection.get(ids=["b"])["metadatas"] == [None]


def test_update_keeps_the_fields_it_does_not_name(
    shared_client: fletchdb.Client, collection: fletchdb.Collection, records
) -> None:
    collection = shared_client.get_collection(collection.name, embedding_function=None)
    records(collection)
    collection.update(ids=["a"], embeddings=[[2.0, 2.0, 2.0]])
    got = collection.get(ids=["a"], include=ALL)
    assert got["documents"] == ["apple pie"]
    assert got["metadatas"] == [{"n": 1, "s": "x", "f": 0.5, "t": True}]
    assert got["embeddings"].tolist() == [[2.0, 2.0, 2.0]]
    collection.update(ids=["a"], documents=["apple crumble"])  # no embedding function: kept
    got = collection.get(ids=["a"], include=ALL)
    assert got["documents"] == ["apple crumble"]
    assert got["embeddings"].tolist() == [[2.0, 2.0, 2.0]]


@pytest.mark.parametrize("compact", [False, True], ids=["log-tail", "compacted"])
def test_upsert_inserts_new_and_updates_existing(
    collection: fletchdb.Collection, records, compact: bool
) -> None:
    records(collection)
    _compacted(collection, compact)
    collection.upsert(
        ids=["a", "n"],
        embeddings=[[1.0, 1.0, 0.0], [2.0, 2.0, 2.0]],
        metadatas=[{"z": 1, "s": None}, {"z": 2, "gone": None}],
    )
    got = _by_id(collection.get(include=ALL))
    assert sorted(got) == ["a", "b", "c", "n"]
    # the document is kept, metadata merged with s removed, the embedding replaced
    assert got["a"] == ([1.0, 1.0, 0.0], "apple pie", {"n": 1, "f": 0.5, "t": True, "z": 1})
    assert got["n"] == ([2.0, 2.0, 2.0], None, {"z": 2})
    assert got["b"] == ([0.0, 1.0, 0.0], "banana split", None)
    assert collection.count() == 4


@pytest.mark.parametrize("compact", [False, True], ids=["log-tail", "compacted"])
def test_get_order_is_insertion_order_after_updates(
    collection: fletchdb.Collection, compact: bool
) -> None:
    collection.add(ids=["a", "b", "c", "d"], embeddings=[[1.0, 0.0]] * 4, metadatas=[{"k": 1}] * 4)
    _compacted(collection, compact)
    collection.update(ids=["b"], metadatas=[{"k": 2}])
    collection.upsert(ids=["a"], embeddings=[[0.0, 1.0]])
    collection.update(ids=["c"], embeddings=[[0.0, 2.0]])
    assert collection.get()["ids"] == ["a", "b", "c", "d"]  # as chromadb 1.5.9
    assert collection.get(limit=2, offset=1)["ids"] == ["b", "c"]


def test_delete_by_ids_where_and_where_document(collection: fletchdb.Collection, records) -> None:
    records(collection)
    collection.add(ids=["d", "e"], embeddings=[[1.0, 1.0, 1.0]] * 2, documents=["date", "elder"])
    # missing ids: nothing is deleted, but Chroma 1.5.9 reports the number of ids given
    assert collection.delete(ids=["zz"]) == {"deleted": 1}
    assert collection.count() == 5
    collection.delete(ids="a")
    collection.delete(where={"n": 3})
    collection.delete(where_document={"$contains": "elder"})
    assert collection.get()["ids"] == ["b", "d"]
    collection.delete(ids=["b", "d"], where_document={"$contains": "date"})  # both must match
    assert collection.get()["ids"] == ["b"]
    collection.delete(where={"n": 3})  # matches nothing
    assert collection.count() == 1


def test_delete_then_add_the_same_id_again(collection: fletchdb.Collection) -> None:
    collection.add(ids=["x"], embeddings=[[1.0, 2.0]], documents=["old"])
    collection.compact()
    collection.delete(ids=["x"])
    collection.add(ids=["x"], embeddings=[[3.0, 4.0]], documents=["new"])
    got = collection.get(include=["embeddings", "documents"])
    assert (got["ids"], got["documents"]) == (["x"], ["new"])
    assert got["embeddings"].tolist() == [[3.0, 4.0]]


# query -------------------------------------------------------------------------------------------
def _numpy_distances(space: str, data: np.ndarray, q: np.ndarray) -> np.ndarray:
    data, q = data.astype(np.float64), q.astype(np.float64)
    if space == "l2":
        return ((data - q) ** 2).sum(axis=1)
    if space == "ip":
        return 1.0 - data @ q
    cos = (data @ q) / (np.linalg.norm(data, axis=1) * np.linalg.norm(q))
    return 1.0 - cos


@pytest.mark.parametrize("compact", [False, True], ids=["log-tail", "compacted"])
@pytest.mark.parametrize("space", ["l2", "cosine", "ip"])
def test_query_distances_equal_numpys(client: fletchdb.Client, space: str, compact: bool) -> None:
    rng = np.random.default_rng(11)
    data = rng.normal(size=(40, 8)).astype(np.float32)
    queries = rng.normal(size=(3, 8)).astype(np.float32)
    col = client.create_collection("dist", configuration={"hnsw": {"space": space}})
    col.add(ids=[f"r{i}" for i in range(40)], embeddings=data)
    _compacted(col, compact)
    result = col.query(query_embeddings=queries, n_results=7, include=["distances"])
    assert len(result["ids"]) == len(result["distances"]) == 3
    for q, ids, distances in zip(queries, result["ids"], result["distances"], strict=True):
        expected = _numpy_distances(space, data, q)
        order = np.argsort(expected, kind="stable")[:7]
        assert ids == [f"r{i}" for i in order]
        np.testing.assert_allclose(distances, expected[order], rtol=1e-4, atol=1e-5)
        assert distances == sorted(distances)


def test_query_with_legacy_space_metadata_uses_that_space(client: fletchdb.Client) -> None:
    col = client.create_collection("legacy", metadata={"hnsw:space": "cosine"})
    col.add(ids=["near", "far"], embeddings=[[10.0, 0.0], [1.0, 1.0]])
    result = col.query(query_embeddings=[1.0, 0.0], n_results=2, include=["distances"])
    assert result["ids"] == [["near", "far"]]
    np.testing.assert_allclose(result["distances"][0], [0.0, 1 - np.sqrt(0.5)], atol=1e-6)


def test_query_n_results_above_count_returns_what_exists(
    collection: fletchdb.Collection, records
) -> None:
    records(collection)
    result = collection.query(query_embeddings=[[1.0, 0.1, 0.0], [0.0, 0.1, 1.0]], n_results=50)
    assert result["ids"] == [["a", "b", "c"], ["c", "b", "a"]]
    np.testing.assert_allclose(
        result["distances"], [[0.01, 1.81, 2.01], [0.01, 1.81, 2.01]], rtol=1e-5
    )


def test_query_an_empty_collection(collection: fletchdb.Collection) -> None:
    result = collection.query(query_embeddings=[[1.0, 2.0]], n_results=3, include=ALL)
    assert result["ids"] == [[]]
    assert result["documents"] == [[]] and result["metadatas"] == [[]]


def test_query_filters(collection: fletchdb.Collection, records) -> None:
    records(collection)
    q = [1.0, 0.0, 0.0]
    assert collection.query(query_embeddings=q, where={"n": 3})["ids"] == [["c"]]
    assert collection.query(query_embeddings=q, where_document={"$contains": "ana"})["ids"] == [
        ["b"]
    ]
    near_b = [0.0, 1.0, 0.5]
    assert collection.query(query_embeddings=near_b, ids=["b", "c"], n_results=1)["ids"] == [["b"]]
    assert collection.query(query_embeddings=near_b, ids="c")["ids"] == [["c"]]
    assert collection.query(query_embeddings=near_b, ids=["a", "c"], where={"n": 1})["ids"] == [
        ["a"]
    ]


def test_query_result_shape_and_types(collection: fletchdb.Collection, records) -> None:
    records(collection)
    result = collection.query(
        query_embeddings=np.array([[1.0, 0.1, 0.0], [0.0, 1.0, 0.1]]),
        n_results=2,
        include=[*ALL, "distances", "uris"],
    )
    assert list(result) == QUERY_KEYS
    assert result["ids"] == [["a", "b"], ["b", "c"]]
    assert isinstance(result["embeddings"], list) and len(result["embeddings"]) == 2
    for emb in result["embeddings"]:
        assert isinstance(emb, np.ndarray) and emb.dtype == np.float64 and emb.shape == (2, 3)
    assert result["embeddings"][0][0].tolist() == [1.0, 0.0, 0.0]
    assert result["documents"][0][0] == "apple pie"
    assert result["metadatas"][0][0] == {"n": 1, "s": "x", "f": 0.5, "t": True}
    assert result["uris"] == [[None, None], [None, None]]
    assert all(type(d) is float for row in result["distances"] for d in row)
    assert result["data"] is None
    assert result["included"] == [*ALL, "distances", "uris"]


@pytest.mark.parametrize(
    "include", [[], ["distances"], ["embeddings"], ["documents", "metadatas"], ["uris"]]
)
def test_include_controls_the_query_fields(
    collection: fletchdb.Collection, records, include: list[str]
) -> None:
    records(collection)
    result = collection.query(query_embeddings=[0.0, 1.0, 0.5], n_results=2, include=include)
    assert list(result) == QUERY_KEYS
    assert result["included"] == include
    assert result["ids"][0][0] == "b"
    for field in ("embeddings", "documents", "metadatas", "distances", "uris"):
        assert (result[field] is None) == (field not in include), field


def test_query_default_include(collection: fletchdb.Collection, records) -> None:
    records(collection)
    result = collection.query(query_embeddings=[0.0, 1.0, 0.0])
    assert result["included"] == ["metadatas", "documents", "distances"]
    assert result["embeddings"] is None
    assert result["ids"][0][0] == "b"


def test_query_with_data_include_and_no_loader(collection: fletchdb.Collection, records) -> None:
    records(collection)  # chromadb's query allows "data" without a loader: data stays None
    result = collection.query(query_embeddings=[0.0, 1.0, 0.0], n_results=1, include=["data"])
    assert result["included"] == ["data", "uris"]
    assert result["data"] is None
    assert result["uris"] == [[None]]


def test_query_prefers_embeddings_when_texts_are_also_given(
    collection: fletchdb.Collection, records
) -> None:
    records(collection)  # as chromadb 1.5.9: no embedding function is needed then
    result = collection.query(query_embeddings=[0.0, 0.0, 1.0], query_texts=["x"], n_results=1)
    assert result["ids"] == [["c"]]


class _LengthEmbedder:
    """A deterministic embedding function: (len, vowels, 1) per text."""

    def __call__(self, input: list[str]) -> Any:
        return [[float(len(t)), float(sum(c in "aeiou" for c in t)), 1.0] for t in input]


def test_embedding_function_embeds_documents_and_query_texts(client: fletchdb.Client) -> None:
    col = client.create_collection("embedder", embedding_function=_LengthEmbedder())
    col.add(ids=["short", "long"], documents=["ab", "abcdefghij"])
    got = col.get(include=["embeddings"])["embeddings"]
    assert got.tolist() == [[2.0, 1.0, 1.0], [10.0, 3.0, 1.0]]
    assert col.query(query_texts="abc", n_results=1)["ids"] == [["short"]]
    col.update(ids=["short"], documents=["abcdefghijk"])  # re-embedded
    assert col.get(ids=["short"], include=["embeddings"])["embeddings"].tolist() == [
        [11.0, 3.0, 1.0]
    ]
