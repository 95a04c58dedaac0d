"""Collection objects: properties, modify, identity, and what a deleted collection's handle does."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import fletchdb
import pytest
from fletchdb.errors import InvalidArgumentError, NotFoundError, UniqueConstraintError


def test_properties(client: fletchdb.Client) -> None:
    col = client.create_collection("props", metadata={"topic": "news", "hnsw:space": "ip"})
    assert str(uuid.UUID(col.id)) == col.id
    assert col.name == "props"
    assert col.metadata == {"topic": "news", "hnsw:space": "ip"}
    assert col.configuration["hnsw"]["space"] == "ip"
    assert (col.tenant, col.database) == ("default_tenant", "default_database")
    assert col.embedding_function == fletchdb.utils.embedding_functions.DefaultEmbeddingFunction()
    assert "props" in repr(col) and col.id in repr(col)


def test_equality_and_hash_follow_the_id(client: fletchdb.Client) -> None:
    a = client.create_collection("aaa")
    b = client.create_collection("bbb")
    assert a == client.get_collection("aaa")
    assert a != b
    assert len({a, client.get_collection("aaa"), b}) == 2


@pytest.mark.local_only("reopens the data directory in this process")
def test_modify_name_and_metadata_persist(tmp_path: Path) -> None:
    path = tmp_path / "d"
    with fletchdb.PersistentClient(path=path) as c:
        col = c.create_collection("before", metadata={"a": 1, "b": "x"})
        col.add(ids=["r"], embeddings=[[1.0, 2.0]])
        col.modify(name="after")
        assert col.name == "after"
        assert col.metadata == {"a": 1, "b": "x"}  # a rename keeps the metadata
        col.modify(metadata={"c": 2.5})
        assert col.metadata == {"c": 2.5}  # replaced, not merged (as Chroma)
        assert col.name == "after"
        with pytest.raises(NotFoundError, match=re.escape("Collection [before] does not exist")):
            c.get_collection("before")
        assert c.get_collection("after").metadata == {"c": 2.5}
        col_id = col.id
    with fletchdb.PersistentClient(path=path) as c:
        col = c.get_collection("after")
        assert (col.id, col.metadata, col.count()) == (col_id, {"c": 2.5}, 1)
        assert [x.name for x in c.list_collections()] == ["after"]


def test_modify_configuration_changes_settable_keys_only(client: fletchdb.Client) -> None:
    col = client.create_collection("cfg", configuration={"hnsw": {"space": "cosine"}})
    col.modify(configuration={"hnsw": {"ef_search": 7}})
    assert col.configuration["hnsw"]["ef_search"] == 7
    assert client.get_collection("cfg").configuration["hnsw"]["ef_search"] == 7
    before = client.get_collection("cfg").configuration
    with pytest.raises(InvalidArgumentError, match="space"):
        col.modify(configuration={"hnsw": {"space": "ip"}})
    assert client.get_collection("cfg").configuration == before


def test_modify_refuses_to_change_the_distance_function(client: fletchdb.Client) -> None:
    col = client.create_collection("space", metadata={"hnsw:space": "cosine", "k": 1})
    with pytest.raises(InvalidArgumentError) as info:
        col.modify(metadata={"hnsw:space": "ip"})
    assert str(info.value) == (
        "Changing the distance function of a collection once it is created is not supported "
        "currently."
    )
    assert isinstance(info.value, ValueError)  # Chroma raises ValueError
    fetched = client.get_collection("space")
    assert fetched.metadata == {"hnsw:space": "cosine", "k": 1}
    assert fetched.configuration["hnsw"]["space"] == "cosine"


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({}, "Expected metadata to be a non-empty dict, got 0 metadata attributes"),
        (
            {"a": {"b": 1}},
            "Expected metadata value to be a str, int, float, bool, SparseVector, list, or None, "
            "got {'b': 1} which is a dict",
        ),
        ("x", "Expected metadata to be a dict or None, got str as metadata"),
    ],
    ids=["empty", "nested", "not-a-dict"],
)
def test_modify_validates_metadata_like_chroma(
    client: fletchdb.Client, metadata: object, message: str
) -> None:
    col = client.create_collection("meta", metadata={"k": 1})
    with pytest.raises(InvalidArgumentError) as info:
        col.modify(metadata=metadata)  # type: ignore[arg-type]
    assert str(info.value) == message
    assert client.get_collection("meta").metadata == {"k": 1}


def test_modify_to_an_existing_or_invalid_name_changes_nothing(client: fletchdb.Client) -> None:
    col = client.create_collection("first", metadata={"k": 1})
    client.create_collection("second")
    with pytest.raises(
        UniqueConstraintError, match=re.escape("Collection [second] already exists")
    ):
        col.modify(name="second")
    with pytest.raises(InvalidArgumentError, match="Expected a name containing 3-512 characters"):
        col.modify(name="x")
    assert [c.name for c in client.list_collections()] == ["first", "second"]
    assert col.name == "first"
    assert client.get_collection("first").metadata == {"k": 1}


@pytest.mark.parametrize(
    ("metadata", "error", "message"),
    [
        ({}, InvalidArgumentError, "Validation error: metadata: Metadata cannot be empty"),
        # chromadb 1.5.9's Rust conversion raises these TypeErrors at create
        (
            {"a": {"b": 1}},
            TypeError,
            "argument 'metadata': Cannot convert Python object to MetadataValue",
        ),
        (
            {"a": None},
            TypeError,
            "argument 'metadata': Cannot convert Python object to MetadataValue",
        ),
        (
            {1: "a"},
            TypeError,
            "argument 'metadata': 'int' object cannot be converted to 'PyString'",
        ),
        # Chroma keeps NaN and turns 2**64 into a float; FletchDB refuses both
        ({"a": float("nan")}, ValueError, "Expected metadata float value for key 'a' to be finite"),
        ({"a": 2**64}, OverflowError, "Expected metadata int value for key 'a' to fit in 64 bits"),
    ],
    ids=["empty", "nested", "none", "key-int", "nan", "int-big"],
)
def test_create_collection_validates_metadata(
    client: fletchdb.Client, metadata: dict, error: type, message: str
) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        client.create_collection("meta", metadata=metadata)
    assert isinstance(info.value, error)
    assert str(info.value).startswith(message)
    with pytest.raises(error):
        client.get_or_create_collection("meta", metadata=metadata)
    assert client.count_collections() == 0


@pytest.mark.parametrize(
    ("metadata", "error", "message"),
    [
        ({"a": {"b": 1}}, ValueError, "Expected metadata value to be a str, int, float, bool, "
         "SparseVector, list, or None, got {'b': 1} which is a dict"),
        ({1: "a"}, TypeError, "Expected metadata key to be a str, got 1 which is a int"),
        ({"a": float("inf")}, ValueError, "Expected metadata float value for key 'a' to be finite"),
        ({"a": [1, -(2**63) - 1]}, OverflowError, "Expected metadata int value for key 'a'"),
    ],
    ids=["nested", "key-int", "inf", "int-small"],
)  # fmt: skip
def test_modify_validates_metadata(
    client: fletchdb.Client, metadata: dict, error: type, message: str
) -> None:
    col = client.create_collection("meta", metadata={"keep": 1})
    with pytest.raises(InvalidArgumentError) as info:
        col.modify(metadata=metadata)
    assert isinstance(info.value, error) and str(info.value).startswith(message)
    assert col.metadata == {"keep": 1}
    assert client.get_collection("meta").metadata == {"keep": 1}


def test_collections_do_not_see_each_others_records(client: fletchdb.Client) -> None:
    a = client.create_collection("aaa")
    b = client.create_collection("bbb")
    a.add(ids=["x", "y"], embeddings=[[1.0, 0.0], [0.0, 1.0]])
    b.add(ids=["x"], embeddings=[[5.0, 5.0, 5.0]])  # same id, other dimension
    assert (a.count(), b.count()) == (2, 1)
    assert b.get(ids=["y"])["ids"] == []
    assert a.get(ids=["x"], include=["embeddings"])["embeddings"].tolist() == [[1.0, 0.0]]


def test_a_deleted_collections_handle_raises_not_found(client: fletchdb.Client) -> None:
    col = client.create_collection("gone")
    col.add(ids=["x"], embeddings=[[1.0]])
    client.delete_collection("gone")
    message = re.escape(f"Collection [{col.id}] does not exist")
    with pytest.raises(NotFoundError, match=message):
        col.add(ids=["y"], embeddings=[[1.0]])
    with pytest.raises(NotFoundError, match=message):
        col.count()
    with pytest.raises(NotFoundError, match=message):
        col.get()
    with pytest.raises(NotFoundError, match=message):
        col.query(query_embeddings=[1.0])
    recreated = client.create_collection("gone")  # the old handle does not reach the new one
    with pytest.raises(NotFoundError):
        col.count()
    assert recreated.count() == 0


def test_list_collections_returns_working_handles(client: fletchdb.Client) -> None:
    client.create_collection("abc", metadata={"k": 1}).add(ids=["x"], embeddings=[[1.0]])
    (listed,) = client.list_collections()
    assert listed.metadata == {"k": 1}
    assert listed.count() == 1
    listed.add(ids=["y"], embeddings=[[2.0]])
    assert client.get_collection("abc").count() == 2
