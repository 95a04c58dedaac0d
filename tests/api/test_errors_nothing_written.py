"""Every validation error, with Chroma's class and message, and nothing written when it is raised.

"Nothing written" means: count, records (ids, embeddings, documents, metadatas), the collection's
dimension, its last log sequence number and the list of collections are all unchanged afterwards.
Messages are chromadb 1.5.9's (checked by test_chroma_parity.py where chromadb is installed).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator
from typing import Any

import fletchdb
import numpy as np
import pytest
from fletchdb import errors
from fletchdb.errors import (
    BatchSizeExceededError,
    DuplicateIDError,
    FletchError,
    InvalidArgumentError,
    InvalidDimensionException,
    NotFoundError,
    QuotaError,
    UniqueConstraintError,
)

from tests.api.conftest import engine_of, opener

E3 = [[0.0, 0.0, 1.0]]  # one valid embedding for the 3-dimensional collections below
NAN_MESSAGE = "Validation error: embeddings: Embeddings must not contain NaN or Infinity values"
NAME_RULE = (
    "Validation error: name: Expected a name containing 3-512 characters from [a-zA-Z0-9._-], "
    "starting and ending with a character in [a-zA-Z0-9]. Got: "
)


@pytest.fixture(scope="module")
def populated(shared_client: fletchdb.Client) -> fletchdb.Collection:
    """One collection holding records a, b, c (dimension 3), shared by the module's error tests.

    Sharing is sound because each test asserts that it changed nothing; a test that did write
    fails itself (and may make later ones fail too, which points at the same bug).
    """
    col = shared_client.create_collection("populated", embedding_function=None)  # no function
    col.add(
        ids=["a", "b", "c"],
        embeddings=[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
        documents=["apple pie", "banana split", "cherry tart"],
        metadatas=[{"n": 1, "s": "x", "f": 0.5, "t": True}, None, {"n": 3, "l": [1, 2]}],
    )
    return col


@pytest.fixture
def col(populated: fletchdb.Collection) -> fletchdb.Collection:
    return populated


def _check(
    nothing_written,
    client: fletchdb.Client,
    col: fletchdb.Collection,
    action: Callable[[fletchdb.Collection], Any],
    exc: type[Exception],
    message: str,
    exact: bool = True,
) -> FletchError:
    with nothing_written(client, col), pytest.raises(exc) as info:
        action(col)
    text = str(info.value)
    if exact:
        assert text == message
    else:
        assert text.startswith(message), text
    return info.value


# Writes ------------------------------------------------------------------------------------------
W = InvalidArgumentError
WRITE_ERRORS: list[Any] = [
    # duplicate ids
    ("dup-add", lambda c: c.add(ids=["q", "q"], embeddings=E3 * 2), DuplicateIDError,
     "Expected IDs to be unique, found duplicates of: q in add.", True),
    ("dup-upsert", lambda c: c.upsert(ids=["a", "q", "a"], embeddings=E3 * 3), DuplicateIDError,
     "Expected IDs to be unique, found duplicates of: a in upsert.", True),
    ("dup-update", lambda c: c.update(ids=["a", "a"], metadatas=[{"n": 1}] * 2), DuplicateIDError,
     "Expected IDs to be unique, found duplicates of: a in update.", True),
    # dimension
    ("dim-add", lambda c: c.add(ids=["q"], embeddings=[[0.0, 0.0, 1.0, 1.0]]),
     InvalidDimensionException, "Collection expecting embedding with dimension of 3, got 4", True),
    ("dim-upsert", lambda c: c.upsert(ids=["a"], embeddings=[[1.0, 2.0]]),
     InvalidDimensionException, "Collection expecting embedding with dimension of 3, got 2", True),
    ("dim-update", lambda c: c.update(ids=["a"], embeddings=[[1.0]]),
     InvalidDimensionException, "Collection expecting embedding with dimension of 3, got 1", True),
    ("dim-update-missing-id", lambda c: c.update(ids=["zz"], embeddings=[[1.0]]),
     InvalidDimensionException, "Collection expecting embedding with dimension of 3, got 1", True),
    ("dim-ragged", lambda c: c.add(ids=["p", "q"], embeddings=[[1.0, 0.0, 0.0], [1.0, 0.0]]),
     W, "Inconsistent dimensions in provided embeddings", True),
    # lengths
    ("len-embeddings", lambda c: c.add(ids=["p", "q"], embeddings=E3), W,
     "Unequal lengths for fields: ids: 2, embeddings: 1 in add.", True),
    ("len-documents", lambda c: c.add(ids=["q"], embeddings=E3, documents=["x", "y"]), W,
     "Unequal lengths for fields: ids: 1, embeddings: 1, documents: 2 in add.", True),
    ("len-metadatas", lambda c: c.upsert(ids=["q"], embeddings=E3, metadatas=[{"a": 1}] * 2), W,
     "Unequal lengths for fields: ids: 1, metadatas: 2, embeddings: 1 in upsert.", True),
    ("len-update", lambda c: c.update(ids=["a", "b"], documents=["x"]), W,
     "Unequal lengths for fields: ids: 2, documents: 1 in update.", True),
    # metadata
    ("meta-nested", lambda c: c.add(ids=["q"], embeddings=E3, metadatas=[{"a": {"x": 1}}]), W,
     "Expected metadata value to be a str, int, float, bool, SparseVector, list, or None, got "
     "{'x': 1} which is a dict in add.", True),
    ("meta-object", lambda c: c.update(ids=["a"], metadatas=[{"a": object}]), W,
     "Expected metadata value to be a str, int, float, bool, SparseVector, list, or None, got "
     "<class 'object'> which is a type in update.", True),
    ("meta-mixed-list", lambda c: c.add(ids=["q"], embeddings=E3, metadatas=[{"a": [1, "x"]}]),
     W, "Expected metadata list value for key 'a' to contain only str, int, float, or bool and "
     "all elements must be the same type, got [1, 'x'] in add.", True),
    ("meta-empty-list", lambda c: c.add(ids=["q"], embeddings=E3, metadatas=[{"a": []}]), W,
     "Expected metadata list value for key 'a' to be non-empty in add.", True),
    ("meta-empty-dict", lambda c: c.add(ids=["q"], embeddings=E3, metadatas=[{}]), W,
     "Expected metadata to be a non-empty dict, got 0 metadata attributes in add.", True),
    ("meta-not-dict", lambda c: c.add(ids=["q"], embeddings=E3, metadatas=["x"]), W,
     "Expected metadata to be a dict or None, got str as metadata in add.", True),
    ("meta-reserved-key", lambda c: c.add(ids=["q"], embeddings=E3,
                                          metadatas=[{"chroma:document": "x"}]), W,
     "Expected metadata to not contain the reserved key chroma:document in add.", True),
    ("meta-key-not-str", lambda c: c.add(ids=["q"], embeddings=E3, metadatas=[{1: "x"}]), W,
     "Expected metadata key to be a str, got 1 which is a int in add.", True),
    ("meta-dollar-key", lambda c: c.add(ids=["q"], embeddings=E3, metadatas=[{"$a": 1}]), W,
     "Validation error: metadatas: Invalid metadata at index 0", False),
    ("meta-hash-key", lambda c: c.upsert(ids=["a"], embeddings=E3, metadatas=[{"#a": 1}]), W,
     "Validation error: metadatas: Invalid metadata at index 0", False),
    ("meta-none-in-add", lambda c: c.add(ids=["q"], embeddings=E3, metadatas=[{"a": None}]), W,
     "argument 'metadatas': Cannot convert Python object to MetadataValue", False),
    # ids
    ("ids-empty", lambda c: c.add(ids=[], embeddings=E3), W,
     "Non-empty lists are required for ['ids'] in add.", True),
    ("ids-and-embeddings-empty", lambda c: c.add(ids=[], embeddings=[]), W,
     "Expected Embeddings to be non-empty list or numpy array, got [] in add.", True),
    ("ids-empty-update", lambda c: c.update(ids=[], metadatas=[]), W,
     "Non-empty lists are required for ['ids', 'metadatas'] in update.", True),
    ("id-empty-string", lambda c: c.add(ids=[""], embeddings=E3), W,
     "Empty ID, ID must have at least one character", True),
    ("id-not-str", lambda c: c.add(ids=[1], embeddings=E3), W,
     "Expected ID to be a str, got 1 in add.", True),
    ("ids-none", lambda c: c.add(ids=None, embeddings=E3), W,
     "Expected IDs to be a list, got NoneType as IDs in add.", True),
    # embedding values
    ("nan", lambda c: c.add(ids=["q"], embeddings=[[0.0, float("nan"), 1.0]]), W, NAN_MESSAGE,
     False),
    ("inf", lambda c: c.upsert(ids=["a"], embeddings=[[0.0, float("inf"), 1.0]]), W, NAN_MESSAGE,
     False),
    ("-inf-update", lambda c: c.update(ids=["a"], embeddings=[[-np.inf, 0.0, 1.0]]), W,
     NAN_MESSAGE, False),
    ("nan-numpy", lambda c: c.add(ids=["p", "q"], embeddings=np.array([[0, 0, 1], [np.nan] * 3])),
     W, NAN_MESSAGE, False),
    ("float32-overflow", lambda c: c.add(ids=["q"], embeddings=[[1e39, 0.0, 0.0]]), W,
     NAN_MESSAGE, False),
    ("embeddings-strings", lambda c: c.add(ids=["q"], embeddings=[["a", "b", "c"]]), W,
     "Expected embeddings to be a list of floats or ints, a list of lists, a numpy array, or a "
     "list of numpy arrays, got [['a', 'b', 'c']] in add.", True),
    ("embeddings-bool-numpy", lambda c: c.add(ids=["q"], embeddings=np.array([[True] * 3])), W,
     "Expected each value in the embedding to be a int or float, got an embedding with bool - "
     "[ True  True  True] in add.", True),
    ("embeddings-3d", lambda c: c.add(ids=["q"], embeddings=np.zeros((1, 1, 3))), W,
     "Expected embeddings to be a list of floats or ints, a list of lists, a numpy array, or a "
     "list of numpy arrays, got", False),
    # documents and missing fields
    ("document-not-str", lambda c: c.add(ids=["q"], embeddings=E3, documents=[3]), W,
     "Expected document to be a str, got 3 in add.", True),
    ("nothing-to-add", lambda c: c.add(ids=["q"]), W, "Exactly one of ", False),
    ("documents-without-embedding-function", lambda c: c.add(ids=["q"], documents=["d"]), W,
     "You must provide embeddings, or an embedding_function", False),
]  # fmt: skip


@pytest.mark.parametrize(
    ("action", "exc", "message", "exact"),
    [pytest.param(*case[1:], id=case[0]) for case in WRITE_ERRORS],
)
def test_write_error_writes_nothing(
    nothing_written, shared_client, col, action, exc, message, exact
) -> None:
    error = _check(nothing_written, shared_client, col, action, exc, message, exact)
    assert isinstance(error, ValueError)  # every Python-side validation error in Chroma is one


def test_dimension_error_is_chromas_invalid_argument(nothing_written, shared_client, col) -> None:
    error = _check(
        nothing_written,
        shared_client,
        col,
        lambda c: c.add(ids=["q"], embeddings=[[1.0, 2.0, 3.0, 4.0]]),
        InvalidArgumentError,
        "Collection expecting embedding with dimension of 3, got 4",
    )
    assert type(error).name() == "InvalidArgumentError"


@pytest.mark.parametrize(
    "action",
    [
        pytest.param(lambda c: c.add(ids=["q"], embeddings=[[np.nan, 1.0]]), id="nan"),
        pytest.param(lambda c: c.add(ids=["q", "q"], embeddings=[[1.0, 1.0]] * 2), id="dup"),
        pytest.param(lambda c: c.add(ids=["p", "q"], embeddings=[[1.0, 1.0], [1.0]]), id="ragged"),
        pytest.param(
            lambda c: c.add(ids=["q"], embeddings=[[1.0]], metadatas=[{"$k": 1}]), id="meta-key"
        ),
    ],
)
def test_a_failed_first_write_does_not_fix_the_dimension(
    nothing_written, shared_client, collection, action
) -> None:
    with nothing_written(shared_client, collection), pytest.raises(InvalidArgumentError):
        action(collection)
    assert engine_of(shared_client).collection(collection.id).record.dimension is None
    collection.add(ids=["ok"], embeddings=[[1.0, 2.0, 3.0, 4.0, 5.0]])  # any dimension is fine
    assert collection.count() == 1


# A batch whose last record alone is invalid ------------------------------------------------------
def _batch(last: dict[str, Any]) -> dict[str, Any]:
    """Five records; the last one's fields are replaced by `last`."""
    ids = ["n1", "n2", "n3", "n4", "n5"]
    embeddings: list[Any] = [[0.1 * i, 0.2, 0.3] for i in range(5)]
    documents: list[Any] = [f"doc {i}" for i in range(5)]
    metadatas: list[Any] = [{"i": i, "s": "v"} for i in range(5)]
    ids[-1] = last.get("id", ids[-1])
    embeddings[-1] = last.get("embedding", embeddings[-1])
    documents[-1] = last.get("document", documents[-1])
    metadatas[-1] = last.get("metadata", metadatas[-1])
    return {"ids": ids, "embeddings": embeddings, "documents": documents, "metadatas": metadatas}


LAST_INVALID = [
    ("nan", {"embedding": [0.0, float("nan"), 0.0]}, InvalidArgumentError),
    ("inf", {"embedding": [0.0, 0.0, float("-inf")]}, InvalidArgumentError),
    ("short-embedding", {"embedding": [0.0, 0.0]}, InvalidArgumentError),
    ("duplicate-of-first", {"id": "n1"}, DuplicateIDError),
    ("empty-id", {"id": ""}, InvalidArgumentError),
    ("id-too-long", {"id": "x" * 1025}, QuotaError),
    ("document-too-long", {"document": "d" * (2**20 + 1)}, QuotaError),
    ("document-not-str", {"document": 5}, InvalidArgumentError),
    ("metadata-nested", {"metadata": {"i": {"x": 1}}}, InvalidArgumentError),
    ("metadata-dollar-key", {"metadata": {"$i": 1}}, InvalidArgumentError),
    ("metadata-value-too-long", {"metadata": {"s": "v" * (64 * 2**10 + 1)}}, QuotaError),
    ("metadata-too-many-keys", {"metadata": {f"k{i}": i for i in range(65)}}, QuotaError),
    ("metadata-two-types", {"metadata": {"i": [1, 2.5]}}, InvalidArgumentError),
]


@pytest.mark.parametrize("op", ["add", "upsert"])
@pytest.mark.parametrize(
    ("last", "exc"), [pytest.param(case[1], case[2], id=case[0]) for case in LAST_INVALID]
)
def test_only_the_last_record_invalid_writes_none_of_the_batch(
    nothing_written, shared_client, col, op: str, last: dict[str, Any], exc: type[Exception]
) -> None:
    with nothing_written(shared_client, col), pytest.raises(exc):
        getattr(col, op)(**_batch(last))
    for name in ("n1", "n2", "n3", "n4"):
        assert col.get(ids=[name])["ids"] == []


@pytest.mark.parametrize("op", ["add", "upsert"])
def test_the_same_batch_made_valid_goes_in_whole(collection, records, op: str) -> None:
    records(collection)
    getattr(collection, op)(**_batch({}))
    assert collection.get()["ids"] == ["a", "b", "c", "n1", "n2", "n3", "n4", "n5"]


def test_only_the_last_update_invalid_updates_nothing(nothing_written, shared_client, col) -> None:
    with nothing_written(shared_client, col), pytest.raises(InvalidArgumentError):
        col.update(
            ids=["a", "b", "c"],
            embeddings=[[1.0, 1.0, 1.0], [2.0, 2.0, 2.0], [np.nan, 0.0, 0.0]],
            metadatas=[{"n": 10}, {"n": 20}, {"n": 30}],
        )


# Reads and deletes -------------------------------------------------------------------------------
WHERE_OPS_MESSAGE = (
    "Expected where operator to be one of $gt, $gte, $lt, $lte, $ne, $eq, $in, $nin, $contains, "
    "$not_contains, got $foo"
)
WD_OPS_MESSAGE = (
    "Expected where document operator to be one of $contains, $not_contains, $regex, "
    "$not_regex, $and, $or, got $foo"
)
INCLUDE_MESSAGE = (
    "Expected include item to be one of documents, embeddings, metadatas, distances, uris, data, "
    "got foo"
)
Q = [1.0, 0.0, 0.0]
READ_ERRORS: list[Any] = [
    # where
    ("where-operator-get", lambda c: c.get(where={"n": {"$foo": 1}}), f"{WHERE_OPS_MESSAGE} in get."),
    ("where-operator-query", lambda c: c.query(query_embeddings=Q, where={"n": {"$foo": 1}}),
     f"{WHERE_OPS_MESSAGE} in query."),
    ("where-operator-delete", lambda c: c.delete(where={"n": {"$foo": 1}}),
     f"{WHERE_OPS_MESSAGE} in delete."),
    ("where-empty-get", lambda c: c.get(where={}),
     "Expected where to have exactly one operator, got {} in get."),
    ("where-empty-query", lambda c: c.query(query_embeddings=Q, where={}),
     "Expected where to have exactly one operator, got {} in query."),
    ("where-empty-delete", lambda c: c.delete(where={}),
     "Expected where to have exactly one operator, got {} in delete."),
    ("where-two-keys", lambda c: c.get(where={"n": 1, "s": "x"}),
     "Expected where to have exactly one operator, got {'n': 1, 's': 'x'} in get."),
    ("where-not-dict", lambda c: c.get(where=[1]), "Expected where to be a dict, got [1] in get."),
    ("where-range-str", lambda c: c.get(where={"n": {"$gt": "x"}}),
     "Expected operand value to be an int or a float for operator $gt, got x in get."),
    ("where-in-not-list", lambda c: c.get(where={"n": {"$in": 1}}),
     "Expected operand value to be an list for operator $in, got 1 in get."),
    ("where-and-one", lambda c: c.delete(where={"$and": [{"n": 1}]}),
     "Expected where value for $and or $or to be a list with at least two where expressions, got "
     "[{'n': 1}] in delete."),
    ("where-dollar-key", lambda c: c.get(where={"$foo": 1}), "Invalid where clause"),
    ("where-u64", lambda c: c.get(where={"n": 2**63}), "Invalid where clause"),
    # where_document
    ("wd-operator-get", lambda c: c.get(where_document={"$foo": "x"}), f"{WD_OPS_MESSAGE} in get."),
    ("wd-operator-query", lambda c: c.query(query_embeddings=Q, where_document={"$foo": "x"}),
     f"{WD_OPS_MESSAGE} in query."),
    ("wd-operator-delete", lambda c: c.delete(where_document={"$foo": "x"}),
     f"{WD_OPS_MESSAGE} in delete."),
    ("wd-not-str", lambda c: c.get(where_document={"$contains": 1}),
     "Expected where document operand value for operator $contains to be a str, got 1 in get."),
    ("wd-empty-str", lambda c: c.get(where_document={"$contains": ""}),
     "Expected where document operand value for operator $contains to be a non-empty str in get."),
    ("wd-empty", lambda c: c.get(where_document={}),
     "Expected where document to have exactly one operator, got {} in get."),
    # include
    ("include-get", lambda c: c.get(include=["foo"]), f"{INCLUDE_MESSAGE} in get."),
    ("include-query", lambda c: c.query(query_embeddings=Q, include=["foo"]),
     f"{INCLUDE_MESSAGE} in query."),
    ("include-distances-get", lambda c: c.get(include=["distances"]),
     "Include item cannot be one of distances, got distances in get."),
    ("include-not-list", lambda c: c.get(include="documents"),
     "Expected include to be a list, got documents in get."),
    ("include-not-str", lambda c: c.query(query_embeddings=Q, include=[1]),
     "Expected include item to be a str, got 1 in query."),
    ("include-data-get", lambda c: c.get(include=["data"]),
     "You must set a data loader on the collection if loading from URIs. in get."),
    # n_results, limit, offset
    ("n-results-zero", lambda c: c.query(query_embeddings=Q, n_results=0),
     "Number of requested results 0, cannot be negative, or zero. in query."),
    ("n-results-negative", lambda c: c.query(query_embeddings=Q, n_results=-1),
     "Number of requested results -1, cannot be negative, or zero. in query."),
    ("n-results-str", lambda c: c.query(query_embeddings=Q, n_results="3"),
     "Expected requested number of results to be a int, got 3 in query."),
    ("limit-negative", lambda c: c.get(limit=-1),
     "out of range integral type conversion attempted"),
    ("offset-negative", lambda c: c.get(offset=-1),
     "out of range integral type conversion attempted"),
    ("limit-str", lambda c: c.get(limit="1"),
     "argument 'limit': 'str' object cannot be interpreted as an integer"),
    # ids and missing arguments
    ("get-ids-empty", lambda c: c.get(ids=[]),
     "Expected IDs to be a non-empty list, got 0 IDs in get."),
    ("delete-ids-empty", lambda c: c.delete(ids=[]),
     "Expected IDs to be a non-empty list, got 0 IDs in delete."),
    ("delete-nothing", lambda c: c.delete(),
     "At least one of ids, where, or where_document must be provided in delete."),
    ("query-nothing", lambda c: c.query(),
     "At least one of one of embeddings, documents, images, uris must be provided in query."),
    ("query-dimension", lambda c: c.query(query_embeddings=[[1.0, 2.0]]),
     "Collection expecting embedding with dimension of 3, got 2"),
    ("query-texts-without-embedding-function", lambda c: c.query(query_texts=["x"]),
     "You must provide embeddings, or an embedding_function"),
    ("query-nan", lambda c: c.query(query_embeddings=[[np.nan, 0.0, 0.0]]), "Query embeddings"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("action", "message"), [pytest.param(*case[1:], id=case[0]) for case in READ_ERRORS]
)
def test_read_and_delete_errors_write_nothing(
    nothing_written, shared_client, col, action, message
) -> None:
    error = _check(
        nothing_written, shared_client, col, action, InvalidArgumentError, message, False
    )
    assert str(error).startswith(message)
    if message.endswith("."):  # Chroma's Python-side messages, suffixed " in <op>."
        assert str(error) == message


def test_where_and_where_document_errors_name_the_operation_once(shared_client, col) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        col.get(where={"n": {"$foo": 1}}, where_document={"$contains": "x"})
    assert str(info.value).count(" in get.") == 1


# Collections -------------------------------------------------------------------------------------
def test_missing_collection(shared_client: fletchdb.Client) -> None:
    before = [c.name for c in shared_client.list_collections()]
    for call in (shared_client.get_collection, shared_client.delete_collection):
        with pytest.raises(NotFoundError) as info:
            call("absent")
        assert str(info.value) == "Collection [absent] does not exist"
    assert [c.name for c in shared_client.list_collections()] == before


def test_duplicate_collection_name(client: fletchdb.Client) -> None:
    original = client.create_collection("taken", metadata={"k": 1})
    original.add(ids=["x"], embeddings=[[1.0]])
    with pytest.raises(UniqueConstraintError) as info:
        client.create_collection("taken", metadata={"k": 2})
    assert str(info.value) == "Collection [taken] already exists"
    assert "already exists" in str(info.value)
    kept = client.get_collection("taken")
    assert (kept.id, kept.metadata, kept.count()) == (original.id, {"k": 1}, 1)
    assert client.count_collections() == 1


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("ab", NAME_RULE + "ab"),
        ("", NAME_RULE),
        ("-abc", NAME_RULE + "-abc"),
        ("abc-", NAME_RULE + "abc-"),
        ("a b c", NAME_RULE + "a b c"),
        ("x" * 513, NAME_RULE + "x" * 513),
        ("::1", NAME_RULE + "::1"),
        ("a..b", "Validation error: name: Expected a name that does not contains two consecutive "
         "periods (..). Got a..b"),
        ("192.168.1.1", "Validation error: name: Expected a name that is not a valid ip address. "
         "Got 192.168.1.1"),
        (5, "Expected collection name to be a str, got 5"),
    ],
    ids=["short", "empty", "leading-dash", "trailing-dash", "spaces", "too-long", "ipv6-chars",
         "double-dot", "ipv4", "not-str"],
)  # fmt: skip
def test_invalid_collection_names(shared_client: fletchdb.Client, name: Any, message: str) -> None:
    before = shared_client.count_collections()
    with pytest.raises(InvalidArgumentError) as info:
        shared_client.create_collection(name)
    assert str(info.value) == message
    with pytest.raises(InvalidArgumentError):
        shared_client.get_or_create_collection(name)
    assert shared_client.count_collections() == before


@pytest.mark.parametrize(
    "configuration",
    [
        {"hnsw": {"space": "foo"}},
        {"hnsw": {"max_neighbors": 0}},
        {"hnsw": {"ef_search": "x"}},
        {"hnsw": {"unknown_key": 1}},
        {"nope": {}},
    ],
    ids=["space", "max-neighbors", "ef-search", "unknown-key", "unknown-section"],
)
def test_invalid_configuration_creates_nothing(
    shared_client: fletchdb.Client, configuration
) -> None:
    before = shared_client.count_collections()
    with pytest.raises(InvalidArgumentError):
        shared_client.create_collection("cfg", configuration=configuration)
    assert shared_client.count_collections() == before
    with pytest.raises(NotFoundError):
        shared_client.get_collection("cfg")


def test_invalid_legacy_space_creates_nothing(shared_client: fletchdb.Client) -> None:
    before = shared_client.count_collections()
    with pytest.raises(InvalidArgumentError, match="foo"):
        shared_client.create_collection("cfg", metadata={"hnsw:space": "foo"})
    assert shared_client.count_collections() == before


# Limits from flight_server/config.py ---------------------------------------------------------------
LIMITS = {
    "max_batch_rows": 10,
    "max_dimension": 4,
    "max_id_bytes": 8,
    "max_document_bytes": 10,
    "max_metadata_keys": 2,
    "max_metadata_value_bytes": 5,
    "max_n_results": 3,
    "max_query_embeddings": 2,
    "max_get_limit": 2,
    "max_where_predicates": 1,
}


@pytest.fixture(scope="module")
def limited(mode: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[fletchdb.Client]:
    """A client with the small LIMITS (remote: a server started with them)."""
    with opener(mode) as o:
        yield o.open(tmp_path_factory.mktemp("limited"), fletchdb.Settings(**LIMITS))


@pytest.fixture
def limited_col(limited: fletchdb.Client) -> Iterator[fletchdb.Collection]:
    c = limited.create_collection("limited")
    c.add(ids=["a", "b"], embeddings=[[1.0, 0.0], [0.0, 1.0]], metadatas=[{"k": 1}, {"k": 2}])
    yield c
    limited.delete_collection("limited")


LIMIT_CASES: list[Any] = [
    pytest.param("max_batch_rows", 11, BatchSizeExceededError,
                 lambda c: c.add(ids=[str(i) for i in range(11)], embeddings=[[1.0, 1.0]] * 11),
                 id="max_batch_rows"),
    pytest.param("max_batch_rows", 11, BatchSizeExceededError,
                 lambda c: c.update(ids=[str(i) for i in range(11)], metadatas=[{"k": 3}] * 11),
                 id="max_batch_rows-update"),
    pytest.param("max_dimension", 5, QuotaError,
                 lambda c: c.add(ids=["x"], embeddings=[[1.0] * 5]), id="max_dimension"),
    pytest.param("max_id_bytes", 9, QuotaError,
                 lambda c: c.add(ids=["é" * 4 + "x"], embeddings=[[1.0, 1.0]]), id="max_id_bytes"),
    pytest.param("max_document_bytes", 11, QuotaError,
                 lambda c: c.upsert(ids=["a"], embeddings=[[1.0, 1.0]], documents=["d" * 11]),
                 id="max_document_bytes"),
    pytest.param("max_metadata_keys", 3, QuotaError,
                 lambda c: c.add(ids=["x"], embeddings=[[1.0, 1.0]],
                                 metadatas=[{"p": 1, "q": 2, "r": 3}]), id="max_metadata_keys"),
    pytest.param("max_metadata_value_bytes", 6, QuotaError,
                 lambda c: c.update(ids=["a"], metadatas=[{"s": "abcdef"}]),
                 id="max_metadata_value_bytes"),
    pytest.param("max_n_results", 4, QuotaError,
                 lambda c: c.query(query_embeddings=[1.0, 1.0], n_results=4), id="max_n_results"),
    pytest.param("max_query_embeddings", 3, QuotaError,
                 lambda c: c.query(query_embeddings=[[1.0, 1.0]] * 3, n_results=1),
                 id="max_query_embeddings"),
    pytest.param("max_get_limit", 3, QuotaError, lambda c: c.get(limit=3), id="max_get_limit"),
    pytest.param("max_where_predicates", 2, QuotaError,
                 lambda c: c.get(where={"$and": [{"k": 1}, {"k": 2}]}), id="max_where_predicates"),
    pytest.param("max_where_predicates", 2, QuotaError,
                 lambda c: c.delete(where={"k": 1}, where_document={"$contains": "x"}),
                 id="max_where_predicates-delete"),
]  # fmt: skip


@pytest.mark.parametrize(("limit", "value", "exc", "action"), LIMIT_CASES)
def test_limit_exceeded_names_limit_value_and_maximum(
    nothing_written, limited, limited_col, limit: str, value: int, exc: type, action
) -> None:
    with nothing_written(limited, limited_col), pytest.raises(exc) as info:
        action(limited_col)
    error = info.value
    maximum = LIMITS[limit]
    assert (error.limit, error.value, error.maximum) == (limit, value, maximum)
    assert error.details == {"limit": limit, "value": value, "maximum": maximum}
    assert f"is {value}, over the limit {limit}={maximum}" in str(error)
    assert isinstance(error, InvalidArgumentError)


def test_max_batch_bytes(nothing_written, open_client, settings, tmp_path) -> None:
    c = open_client(settings(max_batch_bytes=1000), path=tmp_path / "bytes")
    col = c.create_collection("bytes")
    col.add(ids=["a"], embeddings=[[0.0] * 50])
    with nothing_written(c, col), pytest.raises(QuotaError) as info:
        col.add(ids=[f"r{i}" for i in range(10)], embeddings=np.ones((10, 50)))
    assert info.value.limit == "max_batch_bytes"
    assert info.value.maximum == 1000 and info.value.value > 1000
    assert "over the limit max_batch_bytes=1000" in str(info.value)


def test_batch_at_the_limit_is_accepted(limited_col) -> None:
    limited_col.add(ids=[f"r{i}" for i in range(10)], embeddings=[[1.0, 1.0]] * 10)
    assert limited_col.count() == 12


def test_unknown_setting_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="max_batch_rowz"):
        fletchdb.Settings(max_batch_rowz=1)


# The errors table ---------------------------------------------------------------------------------
GRPC_STATUSES = {
    "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
    "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
    "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
}  # fmt: skip
# The keys of chromadb 1.5.9's `chromadb.errors.error_types` (how its HTTP client maps names).
CHROMA_ERROR_NAMES = {
    "InvalidDimension", "InvalidArgumentError", "IDAlreadyExists", "DuplicateID", "InvalidUUID",
    "InvalidHTTPVersion", "AuthorizationError", "NotFoundError", "BatchSizeExceededError",
    "VersionMismatchError", "RateLimitError", "AuthError", "UniqueConstraintError", "QuotaError",
    "InternalError", "ChromaError",
}  # fmt: skip


def _defined_error_classes() -> set[type]:
    module = errors.ERROR_TABLE[0].__module__
    import importlib

    mod = importlib.import_module(module)
    return {
        obj
        for obj in vars(mod).values()
        if inspect.isclass(obj) and issubclass(obj, FletchError) and obj.__module__ == module
    }


def test_every_error_class_has_a_row() -> None:
    defined = _defined_error_classes()
    assert len(defined) >= 17
    missing = sorted(c.__name__ for c in defined - set(errors.ERROR_TABLE))
    assert missing == [], f"FletchError subclasses without an ERROR_TABLE row: {missing}"
    assert set(errors.ERROR_TABLE) <= defined
    assert len(set(errors.ERROR_TABLE)) == len(errors.ERROR_TABLE)


def test_error_codes_are_unique_and_mapped() -> None:
    codes = [cls.code for cls in errors.ERROR_TABLE]
    assert len(set(codes)) == len(codes), sorted(c for c in codes if codes.count(c) > 1)
    assert all(re.fullmatch(r"[a-z][a-z_]*", c) for c in codes)
    assert errors.ERRORS_BY_CODE == {cls.code: cls for cls in errors.ERROR_TABLE}
    for cls in errors.ERROR_TABLE:
        assert "code" in vars(cls), f"{cls.__name__} inherits its code"


@pytest.mark.parametrize("cls", errors.ERROR_TABLE, ids=lambda c: c.__name__)
def test_error_class_has_a_chroma_name_and_a_status(cls: type[FletchError]) -> None:
    assert isinstance(cls.chroma_name, str) and cls.chroma_name
    assert cls.status in GRPC_STATUSES
    assert cls.name() == cls.chroma_name
    assert getattr(fletchdb.errors, cls.__name__) is cls  # importable as Chroma users do
    error = cls("m", "v", 1) if issubclass(cls, QuotaError) else cls("boom")
    assert isinstance(error, fletchdb.errors.ChromaError)
    assert error.message() == str(error)


@pytest.mark.parametrize(
    "cls",
    errors.ERROR_TABLE,
    ids=lambda c: c.__name__,
)
def test_chroma_name_is_one_chroma_knows(cls: type[FletchError]) -> None:
    assert cls.chroma_name in CHROMA_ERROR_NAMES
