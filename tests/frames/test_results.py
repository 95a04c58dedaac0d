"""get()/query() results: still Chroma's dicts, and the same records as Arrow, Polars and pandas."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from fletchdb import Collection
from fletchdb.frames import GetResult, QueryResult
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flight_server.errors import MissingDependencyError
from tests.support.strategies import documents as document_values
from tests.support.strategies import metadatas

from .test_ingest import ALL, assert_same_records, same

DIM = 3


def rows_as_chroma(table: pa.Table) -> tuple[list[Any], list[Any], list[Any]]:
    """(ids, documents, metadatas) of a frame, metadata keys read back from column names."""
    meta_cols = [
        n
        for n in table.column_names
        if n not in {"id", "document", "embedding", "distance", "query_index"}
    ]
    metadatas: list[Any] = []
    for row in table.select(meta_cols).to_pylist():
        md = {
            (
                n.partition(":")[2]
                if n.startswith(("s:", "i:", "f:", "b:", "ls:", "li:", "lf:", "lb:"))
                else n
            ): v
            for n, v in row.items()
            if v is not None
        }
        metadatas.append(md or None)
    docs = table.column("document").to_pylist() if "document" in table.column_names else None
    return table.column("id").to_pylist(), docs, metadatas


records = st.integers(1, 10).flatmap(
    lambda n: st.tuples(
        st.lists(metadatas().map(lambda m: m or None), min_size=n, max_size=n),
        st.lists(document_values, min_size=n, max_size=n),
    )
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=records, include=st.sets(st.sampled_from(ALL)))
def test_to_arrow_holds_what_the_dict_holds(
    fresh: Callable[..., Collection], data: tuple[list[Any], list[Any]], include: set[str]
) -> None:
    metas, docs = data
    n = len(metas)
    col = fresh()
    vectors = np.random.default_rng(n).random((n, DIM), dtype=np.float32)
    col.add(ids=[f"r{i}" for i in range(n)], embeddings=vectors, metadatas=metas, documents=docs)
    got = col.get(include=sorted(include))
    assert isinstance(got, dict) and isinstance(got, GetResult)
    table = got.to_arrow()
    ids, got_docs, got_metas = rows_as_chroma(table)
    assert ids == got["ids"]
    if "documents" in include:
        assert got_docs == got["documents"]
    else:
        assert "document" not in table.column_names
    if "metadatas" in include:
        assert same(got_metas, got["metadatas"])
    else:
        assert table.column_names[:1] == ["id"] and all(
            c in ("id", "document", "embedding") for c in table.column_names
        )
    if "embeddings" in include:
        emb = table.column("embedding").combine_chunks()
        assert np.array_equal(emb.values.to_numpy().reshape(n, DIM), got["embeddings"])
    # the frame is a table users can add back: the same records come out
    if include == set(ALL):
        back = fresh()
        back.add(table)
        assert_same_records(back, col)


def test_query_frames_have_one_row_per_result_and_a_query_index(
    fresh: Callable[..., Collection],
) -> None:
    col = fresh()
    col.add(
        ids=list("abcd"),
        embeddings=[[0, 0, 0], [1, 0, 0], [0, 2, 0], [0, 0, 3]],
        metadatas=[{"k": 1}, {"k": "one"}, None, {"distance": 2.5}],
        documents=list("wxyz"),
    )
    got = col.query(
        query_embeddings=[[0, 0, 0], [0, 0, 3]], n_results=2, include=["distances", "metadatas"]
    )
    assert isinstance(got, QueryResult)
    table = got.to_arrow()
    assert table.column("query_index").to_pylist() == [0, 0, 1, 1]
    assert table.column("id").to_pylist() == [i for ids in got["ids"] for i in ids]
    assert table.column("distance").to_pylist() == pytest.approx(
        [d for ds in got["distances"] for d in ds]
    )
    # k has two types (typed names); a key named like a result column keeps its typed name
    assert {"i:k", "s:k", "f:distance"} <= set(table.column_names)
    assert "document" not in table.column_names
    frame = got.to_polars()
    assert (
        frame.partition_by("query_index", maintain_order=True)[1]["id"].to_list() == got["ids"][1]
    )


def _embedding_values(table: pa.Table) -> pa.Buffer:
    chunk = table.column("embedding").chunk(0)
    return chunk.values.buffers()[1]


def test_polars_takes_the_buffers_without_a_copy(fresh: Callable[..., Collection]) -> None:
    col = fresh()
    n = 1000
    col.add(
        ids=[f"r{i}" for i in range(n)],
        embeddings=np.random.default_rng(1).random((n, 8)),
        metadatas=[{"y": i} for i in range(n)],
    )
    got = col.get(include=["embeddings", "metadatas"])
    table = got.to_arrow()
    # remote results arrive realigned (Flight itself delivers 8-byte offsets)
    for column in table.columns:
        for chunk in column.chunks:
            arrays = [chunk, chunk.values] if pa.types.is_fixed_size_list(chunk.type) else [chunk]
            for arr in arrays:
                assert all(b.address % 64 == 0 for b in arr.buffers() if b is not None)
    frame = got.to_polars()
    flat = frame["embedding"].arr.explode().to_numpy()
    assert flat.__array_interface__["data"][0] == _embedding_values(table).address
    years = frame["y"].to_numpy()
    assert years.__array_interface__["data"][0] == table.column("y").chunk(0).buffers()[1].address
    assert got.to_arrow() is table  # built once


def test_to_pandas(fresh: Callable[..., Collection]) -> None:
    col = fresh()
    col.add(
        ids=["a", "b"],
        embeddings=[[1, 2], [3, 4]],
        metadatas=[{"n": 1}, {"n": 2}],
        documents=["x", None],
    )
    frame = col.get(include=ALL).to_pandas()
    assert list(frame.columns) == ["id", "document", "embedding", "n"]
    assert frame["n"].tolist() == [1, 2] and frame["id"].tolist() == ["a", "b"]
    assert np.array_equal(np.stack(frame["embedding"].to_numpy()), [[1, 2], [3, 4]])
    arrow_backed = col.get(include=["metadatas"]).to_pandas(types_mapper=pd.ArrowDtype)
    assert isinstance(arrow_backed["n"].dtype, pd.ArrowDtype)
    query = col.query(query_embeddings=[[1, 2]], n_results=1).to_pandas()
    assert query["id"].tolist() == ["a"] and query["query_index"].tolist() == [0]


def test_to_pandas_without_pandas_names_the_extra(
    fresh: Callable[..., Collection], monkeypatch: pytest.MonkeyPatch
) -> None:
    col = fresh()
    col.add(ids=["a"], embeddings=[[1.0, 2.0]])
    got = col.get()
    monkeypatch.setitem(sys.modules, "pandas", None)  # `import pandas` now fails, as if absent
    with pytest.raises(MissingDependencyError, match=r"pip install 'fletchdb\[pandas\]'") as raised:
        got.to_pandas()
    assert isinstance(raised.value, ImportError)
    assert got.to_polars().height == 1 and isinstance(got.to_arrow(), pa.Table)


def test_empty_results_convert(fresh: Callable[..., Collection]) -> None:
    col = fresh()
    assert col.get().to_arrow().num_rows == 0
    assert col.query(query_embeddings=[[1.0, 2.0]], n_results=3).to_polars().height == 0
    col.add(ids=["a"], embeddings=[[1.0, 2.0]])
    assert col.get(ids=["zz"], include=ALL).to_polars().columns == ["id", "document", "embedding"]
    assert isinstance(pl.from_arrow(col.get().to_arrow()), pl.DataFrame)
