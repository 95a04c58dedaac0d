"""Export to Parquet and import back, locally and over Flight: everything survives the round trip."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fletchdb import Client, Collection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flight_server.errors import (
    InvalidArgumentError,
    NotFoundError,
    QuotaError,
    UniqueConstraintError,
)
from tests.support.strategies import documents as document_values
from tests.support.strategies import metadatas

from .tables import embedding_array
from .test_ingest import ALL, assert_same_records

DIM = 4
meta = metadatas().map(lambda m: m or None)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(1, 8), meta, document_values),
        st.tuples(st.just("update"), st.integers(0, 20), meta, document_values),
        st.tuples(st.just("delete"), st.integers(0, 20)),
        st.tuples(st.just("compact")),
    ),
    max_size=8,
)
configurations = st.fixed_dictionaries(
    {"space": st.sampled_from(["l2", "cosine", "ip"]), "ef_search": st.integers(10, 200)}
)


def apply(col: Collection, ops: list[tuple[Any, ...]], rng: np.random.Generator) -> None:
    """Adds (of n records), updates and deletes (of record i, if it exists) and compactions."""
    made = 0
    for op in ops:
        if op[0] == "add":
            n = op[1]
            ids = [f"r{made + i}" for i in range(n)]
            made += n
            col.add(
                ids=ids,
                embeddings=rng.random((n, DIM)),
                metadatas=[op[2]] * n,
                documents=[op[3]] * n,
            )
        elif op[0] == "update" and op[1] < made and op[2] is not None:
            vector = rng.random((1, DIM))  # given, so no embedding function is involved
            col.update(ids=[f"r{op[1]}"], embeddings=vector, metadatas=op[2], documents=op[3])
        elif op[0] == "delete":
            col.delete(ids=[f"r{op[1]}"])
        elif op[0] == "compact":
            col.compact()


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    ops=steps, hnsw=configurations, metadata=st.one_of(st.none(), st.just({"team": "x", "v": 2}))
)
def test_export_then_import_gives_the_same_collection(
    shared_client: Client,
    tmp_path_factory: pytest.TempPathFactory,
    ops: list[tuple[Any, ...]],
    hnsw: dict[str, Any],
    metadata: dict[str, Any] | None,
) -> None:
    name, copy = f"src-{uuid.uuid4().hex}", f"cp-{uuid.uuid4().hex}"
    src = shared_client.create_collection(name, configuration={"hnsw": hnsw}, metadata=metadata)
    path = tmp_path_factory.mktemp("export") / "backup.parquet"
    try:
        apply(src, ops, np.random.default_rng(len(ops)))
        assert shared_client.export_collection(name, path, batch_size=3) == src.count()
        described = json.loads(pq.read_schema(path).metadata[b"fletchdb.export"])
        assert described["name"] == name and described["count"] == src.count()
        imported = shared_client.import_collection(path, copy)
        assert_same_records(imported, src)
        assert imported.configuration == src.configuration
        assert imported.metadata == src.metadata
    finally:
        for n in (name, copy):
            if n in {c.name for c in shared_client.list_collections()}:
                shared_client.delete_collection(n)


def test_the_file_is_a_plain_parquet_table(
    fresh: Callable[..., Collection], tmp_path: Path
) -> None:
    col = fresh(metadata={"about": "pets"})
    col.add(
        ids=["a", "b"],
        embeddings=[[1, 2], [3, 4]],
        documents=["cat", None],
        metadatas=[{"kind": "cat", "n": 1}, {"n": "two"}],
    )
    path = tmp_path / "pets.parquet"
    col_name = col.name
    client = _client_of(col)
    client.export_collection(col_name, path)
    table = pq.read_table(path)
    assert table.column_names == ["id", "embedding", "document", "kind", "i:n", "s:n"]
    assert table.column("id").to_pylist() == ["a", "b"]
    assert table.column("embedding").to_pylist() == [[1.0, 2.0], [3.0, 4.0]]
    described = json.loads(table.schema.metadata[b"fletchdb.export"])
    assert described["metadata"] == {"about": "pets"} and described["dimension"] == 2
    assert described["configuration"] == col.configuration and described["format"] == 1
    assert not [p for p in tmp_path.iterdir() if p.name != "pets.parquet"]  # no temporary left


def _client_of(col: Collection) -> Any:
    """A Client over the collection's transport (the export API lives on clients)."""
    from fletchdb import Client

    return Client(col._transport, col.tenant, col.database, release=lambda: None)


def test_export_is_one_snapshot(fresh: Callable[..., Collection]) -> None:
    col = fresh()
    col.add(ids=[f"r{i}" for i in range(10)], embeddings=np.ones((10, 2)))
    reader = col._transport.export(col.id, 3)
    col.add(ids=["late"], embeddings=[[1.0, 1.0]])
    col.delete(ids=["r0"])
    rows = pa.Table.from_batches(list(reader), schema=reader.schema)
    assert rows.column("id").to_pylist() == [f"r{i}" for i in range(10)]
    assert json.loads(reader.schema.metadata[b"fletchdb.export"])["count"] == 10


def test_an_empty_collection_round_trips(fresh: Callable[..., Collection], tmp_path: Path) -> None:
    col = fresh(configuration={"hnsw": {"space": "cosine"}})
    client = _client_of(col)
    assert client.export_collection(col.name, tmp_path / "e.parquet") == 0
    copy = client.import_collection(tmp_path / "e.parquet", f"e-{uuid.uuid4().hex}")
    try:
        assert copy.count() == 0 and copy.configuration["hnsw"]["space"] == "cosine"
    finally:
        client.delete_collection(copy.name)


def test_import_errors_leave_nothing_behind(
    fresh: Callable[..., Collection], tmp_path: Path
) -> None:
    col = fresh()
    client = _client_of(col)
    n = 10
    vectors = np.ones((n, 2), np.float32)
    vectors[7] = np.nan
    bad = pa.table(
        {"id": [f"r{i}" for i in range(n)], "embedding": embedding_array(vectors, "fixed32")}
    )
    path = tmp_path / "bad.parquet"
    pq.write_table(bad, path, row_group_size=3)
    with pytest.raises(InvalidArgumentError, match="NaN"):
        client.import_collection(path, "half", batch_size=3)
    assert "half" not in {c.name for c in client.list_collections()}
    with pytest.raises(InvalidArgumentError, match="not a FletchDB export"):
        client.import_collection(path)  # a plain Parquet file needs a name
    good = tmp_path / "good.parquet"
    pq.write_table(bad.slice(0, 5), good)
    imported = client.import_collection(good, f"plain-{uuid.uuid4().hex}")
    assert imported.count() == 5
    client.delete_collection(imported.name)
    with pytest.raises(UniqueConstraintError):
        client.import_collection(good, col.name)
    assert col.count() == 0
    with pytest.raises(InvalidArgumentError, match="does not exist"):
        client.import_collection(tmp_path / "nope.parquet", "nope")
    (tmp_path / "junk.parquet").write_text("junk")
    with pytest.raises(InvalidArgumentError, match="as Parquet"):
        client.import_collection(tmp_path / "junk.parquet", "junk")


def test_export_errors(fresh: Callable[..., Collection], tmp_path: Path) -> None:
    col = fresh()
    col.add(ids=["a"], embeddings=[[1.0]])
    client = _client_of(col)
    with pytest.raises(NotFoundError):
        client.export_collection("missing-collection", tmp_path / "m.parquet")
    with pytest.raises(InvalidArgumentError, match="is a directory"):
        client.export_collection(col.name, tmp_path)
    with pytest.raises(InvalidArgumentError, match="batch_size must be an int > 0"):
        client.export_collection(col.name, tmp_path / "z.parquet", batch_size=0)
    with pytest.raises(QuotaError, match="max_batch_rows"):
        col._transport.export(col.id, 10**9)
    with pytest.raises(InvalidArgumentError, match="Cannot write"):
        client.export_collection(col.name, tmp_path / "no" / "such" / "dir.parquet")
    assert list(tmp_path.iterdir()) == []


def test_import_everything_through_get_to_arrow(fresh: Callable[..., Collection]) -> None:
    """A get() frame is itself importable: frames and exports share one column mapping."""
    col = fresh()
    col.add(
        ids=["a", "b"],
        embeddings=[[1, 2], [3, 4]],
        metadatas=[{"x:y": 1, "id": "i"}, {"distance": 0.5}],
    )
    copy = fresh()
    copy.add(col.get(include=ALL).to_arrow())
    assert_same_records(copy, col)
