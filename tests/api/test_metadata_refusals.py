"""Metadata Chroma accepts and mangles is refused whole, typed, with nothing written (issue 18).

Chroma 1.5.9 drops NaN/inf record metadata silently (or breaks the collection's log, inside a
list), turns ints beyond int64 into lossy floats, and keeps NaN in a collection's metadata.
FletchDB refuses each with an InvalidArgumentError (a ValueError; an OverflowError too for the
ints) and writes nothing of the batch, local and remote. Hypothesis puts one bad value at a
random record, key and place (scalar or list) of an otherwise valid write.
"""

from __future__ import annotations

import math
from typing import Any

import fletchdb
import pytest
from fletchdb import Collection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flight_server.engine import Engine
from flight_server.errors import InvalidArgumentError, InvalidArgumentOverflowError

KEYS = st.sampled_from(["a", "b", "score", "ünï"])
GOOD = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
    st.booleans(),
)
BAD_FLOATS = st.sampled_from([math.nan, math.inf, -math.inf])
BAD_INTS = st.one_of(st.integers(min_value=2**63), st.integers(max_value=-(2**63) - 1))
BAD = st.one_of(BAD_FLOATS, BAD_INTS)
PROPERTY = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def expected_error(bad: Any) -> type[Exception]:
    """The reference: which builtin the refusal of `bad` must also be."""
    return OverflowError if isinstance(bad, int) else ValueError


@st.composite
def poisoned_write(draw: st.DrawFn) -> tuple[list[dict[str, Any]], Any]:
    """Valid metadatas for 1-5 records, one value replaced by a bad one (maybe in a list)."""
    n = draw(st.integers(1, 5))
    metas = [draw(st.dictionaries(KEYS, GOOD, min_size=1, max_size=3)) for _ in range(n)]
    bad = draw(BAD)
    value = [draw(st.floats(0, 1)) if isinstance(bad, float) else 1, bad]
    metas[draw(st.integers(0, n - 1))][draw(KEYS)] = draw(st.sampled_from([bad, value]))
    return metas, bad


@pytest.fixture
def seeded(collection: Collection) -> Collection:
    collection.add(ids=["x", "y"], embeddings=[[1.0, 0.0], [0.0, 1.0]], metadatas=[{"k": 1}, None])
    return collection


@PROPERTY
@given(write=poisoned_write(), op=st.sampled_from(["add", "upsert", "update"]))
def test_bad_record_metadata_is_refused_whole(
    shared_client: fletchdb.Client, seeded: Collection, nothing_written: Any, write: Any, op: str
) -> None:
    metas, bad = write
    ids = (
        ["x", "y", "n1", "n2", "n3"][: len(metas)]
        if op != "add"
        else [f"n{i}" for i in range(len(metas))]
    )
    with nothing_written(shared_client, seeded), pytest.raises(InvalidArgumentError) as info:
        getattr(seeded, op)(ids=ids, embeddings=[[0.5, 0.5]] * len(ids), metadatas=metas)
    assert isinstance(info.value, expected_error(bad))


@PROPERTY
@given(bad=BAD, key=KEYS, in_list=st.booleans())
def test_bad_collection_metadata_is_refused_at_create_and_modify(
    shared_client: fletchdb.Client, seeded: Collection, bad: Any, key: str, in_list: bool
) -> None:
    metadata = {"keep": "yes", key: [bad] if in_list else bad}
    names = [c.name for c in shared_client.list_collections()]
    with pytest.raises(InvalidArgumentError) as info:
        shared_client.create_collection("bad-meta", metadata=metadata)
    assert isinstance(info.value, expected_error(bad))
    assert [c.name for c in shared_client.list_collections()] == names
    before = shared_client.get_collection(seeded.name).metadata
    with pytest.raises(InvalidArgumentError) as info:
        seeded.modify(metadata=metadata)
    assert isinstance(info.value, expected_error(bad))
    assert shared_client.get_collection(seeded.name).metadata == before == seeded.metadata


def test_nested_collection_metadata_is_a_type_error(shared_client: fletchdb.Client) -> None:
    """Chroma's create raises TypeError (its Rust conversion); modify a ValueError (its Python check)."""
    with pytest.raises(TypeError, match="Cannot convert Python object to MetadataValue"):
        shared_client.create_collection("nested-meta", metadata={"a": {"b": 1}})
    assert "nested-meta" not in [c.name for c in shared_client.list_collections()]


def test_pinned_counterexamples(shared_client: fletchdb.Client, seeded: Collection) -> None:
    """Values at the edges: int64's ends are kept exactly, one past them is refused."""
    seeded.upsert(ids=["x"], embeddings=[[1.0, 0.0]], metadatas=[{"lo": -(2**63), "hi": 2**63 - 1}])
    assert seeded.get(ids=["x"])["metadatas"] == [{"k": 1, "lo": -(2**63), "hi": 2**63 - 1}]
    with pytest.raises(InvalidArgumentOverflowError):
        seeded.update(ids=["x"], metadatas=[{"hi": 2**63}])
    assert seeded.get(where={"hi": {"$gt": 1e20}})["ids"] == []  # no inf/NaN to match it


@pytest.mark.parametrize(
    ("metadata", "error"),
    [
        ({"a": {"b": 1}}, TypeError),
        ({"a": [{"b": 1}]}, ValueError),
        ({"a": None}, TypeError),
        ({"a": math.nan}, ValueError),
        ({"a": [1.0, math.inf]}, ValueError),
        ({"a": 2**64}, OverflowError),
        ({"a": []}, ValueError),
    ],
    ids=["nested", "list-of-dicts", "none", "nan", "list-inf", "int-big", "list-empty"],
)
def test_engine_refuses_bad_collection_metadata_from_any_client(
    metadata: dict[str, Any], error: type[Exception]
) -> None:
    """What a raw Flight client could send (JSON carries nested dicts, None, huge ints)."""
    engine = Engine(None)
    try:
        with pytest.raises(InvalidArgumentError) as info:
            engine.create_collection("raw", metadata=metadata)
        assert isinstance(info.value, error)
        assert engine.list_collections() == []
        record = engine.create_collection("raw", metadata={"keep": 1})
        if metadata != {"a": None}:  # None removes a key in modify, as in Chroma
            with pytest.raises(error):
                engine.modify_collection(record.id, metadata=metadata)
            assert engine.get_collection("raw").metadata == {"keep": 1}
    finally:
        engine.close()
