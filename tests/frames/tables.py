"""Test helpers: Chroma-shaped records as users' tables, in every input form add() accepts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from flight_server.schema import META_TAGS, meta_column, parse_meta_column
from tests.support.tables import _tag

INPUT_KINDS = ("table", "batch", "reader", "parquet", "parquet-str", "polars", "pandas")
EMBEDDING_TYPES = ("fixed32", "fixed64", "list32", "large64")
# column names a bare metadata key may not use (they are columns of their own)
RESERVED = {"id", "embedding", "document", "label", "distance", "query_index"}


def user_table(
    ids: Sequence[str],
    embeddings: np.ndarray,
    documents: Sequence[str | None] | None,
    metadatas: Sequence[dict[str, Any] | None],
    plain: bool = True,
    embedding_type: str = "fixed32",
) -> pa.Table:
    """A user's table of these records: metadata columns by bare key where a key has one type
    (and `plain`), else `<tag>:<key>`. An independent statement of the documented mapping."""
    n = len(ids)
    columns: dict[str, pa.Array] = {
        "id": pa.array(list(ids), pa.string()),
        "embedding": embedding_array(embeddings, embedding_type),
    }
    if documents is not None:
        columns["document"] = pa.array(list(documents), pa.string())
    values: dict[tuple[str, str], list[Any]] = {}
    for row, metadata in enumerate(metadatas):
        for key, value in (metadata or {}).items():
            values.setdefault((key, _tag(value)), [None] * n)[row] = value
    tags_of: dict[str, list[str]] = {}
    for key, tag in values:
        tags_of.setdefault(key, []).append(tag)
    for (key, tag), column in sorted(values.items()):
        bare = (
            plain
            and len(tags_of[key]) == 1
            and key not in RESERVED
            and parse_meta_column(key) is None
        )
        columns[key if bare else meta_column(tag, key)] = pa.array(column, META_TAGS[tag])
    return pa.table(columns)


def embedding_array(vectors: np.ndarray, kind: str) -> pa.Array:
    """Embeddings as one of the Arrow layouts users have: fixed or variable lists, f32 or f64."""
    n, d = vectors.shape
    if kind == "fixed32":
        return pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1), pa.float32()), d)
    if kind == "fixed64":
        flat = pa.array(vectors.astype(np.float64).reshape(-1))
        return pa.FixedSizeListArray.from_arrays(flat, d)
    offsets = pa.array(np.arange(0, (n + 1) * d, d, dtype=np.int64))
    if kind == "list32":
        return pa.ListArray.from_arrays(offsets.cast(pa.int32()), pa.array(vectors.reshape(-1)))
    flat = pa.array(vectors.astype(np.float64).reshape(-1))
    return pa.LargeListArray.from_arrays(offsets, flat)


def as_input(table: pa.Table, kind: str, folder: Path) -> Any:
    """`table` in the form `kind`: Arrow table/batch/reader, Parquet path, Polars or pandas."""
    if kind == "table":
        return table
    if kind == "batch":
        return table.combine_chunks().to_batches()[0]
    if kind == "reader":
        return pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=3))
    if kind in ("parquet", "parquet-str"):
        path = folder / f"in-{len(list(folder.iterdir()))}.parquet"
        pq.write_table(table, path, row_group_size=4)
        return path if kind == "parquet" else str(path)
    if kind == "polars":
        return pl.from_arrow(table)
    if kind == "pandas":  # Arrow-backed columns keep int columns with nulls ints
        return table.to_pandas(types_mapper=pd.ArrowDtype)
    raise ValueError(kind)
