"""Executor output (Arrow record tables) as chromadb 1.5.9's GetResult / QueryResult dicts.

Shapes confirmed against chromadb 1.5.9: key order ids, embeddings, documents, uris, included,
data, metadatas (+ distances for queries); fields not included are None; embeddings are float64
numpy arrays (get: one (n, d) array; query: a list of (k, d) arrays; an empty result is
`np.array([])`); a record without metadata has None; `uris` is None per record when included
(FletchDB stores no URIs) and `data` is None (the collection's data loader fills it).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from flight_server.api import DOCUMENT, EMBEDDING, ID, UNSET_TAG, parse_meta_column

from .errors import (
    InternalError,
    InvalidArgumentError,
    InvalidArgumentOverflowError,
    InvalidArgumentTypeError,
    QuotaError,
)
from .frames import GetResult, QueryResult
from .lazy_dict import Deferred

INCLUDE_ITEMS = ("documents", "embeddings", "metadatas", "distances", "uris", "data")
GET_INCLUDE_DEFAULT = ("metadatas", "documents")
QUERY_INCLUDE_DEFAULT = ("metadatas", "documents", "distances")
DISTANCE = "distance"
Records: TypeAlias = pa.Table | pa.RecordBatch
_U32_END, _I64_MIN, _I64_END = 2**32, -(2**63), 2**63


def validate_include(include: Any, for_query: bool, has_data_loader: bool = False) -> list[str]:
    """Chroma's `validate_include` for get (no distances) or query; None gives the default."""
    w = " in query." if for_query else " in get."
    if include is None:
        return list(QUERY_INCLUDE_DEFAULT if for_query else GET_INCLUDE_DEFAULT)
    if not isinstance(include, list):
        raise InvalidArgumentError(f"Expected include to be a list, got {include}{w}")
    for item in include:
        if not isinstance(item, str):
            raise InvalidArgumentError(f"Expected include item to be a str, got {item}{w}")
        if item not in INCLUDE_ITEMS:
            raise InvalidArgumentError(
                f"Expected include item to be one of {', '.join(INCLUDE_ITEMS)}, got {item}{w}"
            )
        if not for_query and item == "distances":
            raise InvalidArgumentError(f"Include item cannot be one of distances, got distances{w}")
    if "data" in include and not has_data_loader:
        raise InvalidArgumentError(
            f"You must set a data loader on the collection if loading from URIs.{w}"
        )
    out = list(include)
    if "data" in out and "uris" not in out:
        out.append("uris")
    return out


def validate_n_results(n_results: Any, maximum: int | None = None) -> int:
    """Chroma's `validate_n_results` (an int > 0, a u32), plus FletchDB's max_n_results limit."""
    if not isinstance(n_results, int):
        raise InvalidArgumentError(
            f"Expected requested number of results to be a int, got {n_results} in query."
        )
    if n_results <= 0:  # Chroma raises TypeError here
        raise InvalidArgumentTypeError(
            f"Number of requested results {n_results}, cannot be negative, or zero. in query."
        )
    n = as_u32("n_results", n_results)
    if maximum is not None and n > maximum:
        raise QuotaError("max_n_results", n, maximum, "n_results")
    return n


def as_u32(name: str, value: Any) -> int:
    """An int argument as Chroma's Rust bindings take it (a u32), with their TypeError/OverflowError."""
    try:
        number = operator.index(value)  # ints, bools and numpy integers, as PyO3 accepts them
    except TypeError:
        raise InvalidArgumentTypeError(
            f"argument '{name}': '{type(value).__name__}' object cannot be interpreted as an integer"
        ) from None
    if not _I64_MIN <= number < _I64_END:
        raise InvalidArgumentOverflowError("Python int too large to convert to C long")
    if not 0 <= number < _U32_END:
        side = "negative" if number < 0 else f"over {_U32_END - 1}"
        raise InvalidArgumentOverflowError(
            f"out of range integral type conversion attempted ({name}={number} is {side})"
        )
    return number


def validate_limit_offset(
    limit: Any, offset: Any, max_limit: int | None = None
) -> tuple[int | None, int]:
    """get()'s (or a list's) limit and offset as Chroma's client takes them: None or a u32."""
    lim = None if limit is None else as_u32("limit", limit)
    off = 0 if offset is None else as_u32("offset", offset)
    if lim is not None and max_limit is not None and lim > max_limit:
        raise QuotaError("max_get_limit", lim, max_limit, "limit")
    return lim, off


def metadatas_from_table(table: Records) -> list[dict[str, Any] | None]:
    """Chroma metadata dicts from the typed wide columns; None for a record without metadata."""
    n = table.num_rows
    out: list[dict[str, Any] | None] = [None] * n
    for name in table.schema.names:
        parsed = parse_meta_column(name)
        if parsed is None or parsed[0] == UNSET_TAG:
            continue
        key, col = parsed[1], _array(table.column(name))
        nulls = col.null_count
        if nulls == n:
            continue
        if nulls:
            rows: Sequence[int] = np.flatnonzero(
                pc.is_valid(col).to_numpy(zero_copy_only=False)
            ).tolist()
            values = col.drop_null().to_pylist()
        else:
            rows, values = range(n), col.to_pylist()
        for row, value in zip(rows, values, strict=True):
            md = out[row]
            if md is None:
                out[row] = {key: value}
            else:
                md[key] = value
    return out


def get_result(table: Records, include: Sequence[str]) -> GetResult:
    """chromadb's GetResult dict for one record table (also .to_arrow/.to_polars/.to_pandas).

    Each value is converted from Arrow when first read (`lazy_dict.py`).
    """
    n = table.num_rows

    def field(item: str | None, build: Callable[[Records], Any]) -> Any:
        return Deferred(lambda: build(table)) if item is None or item in include else None

    fields = {
        "ids": field(None, _ids),
        "embeddings": field("embeddings", embeddings_array),
        "documents": field("documents", _documents),
        "uris": [None] * n if "uris" in include else None,
        "included": list(include),
        "data": None,
        "metadatas": field("metadatas", metadatas_from_table),
    }
    return GetResult(fields, table, include)


def query_result(tables: Sequence[Records], include: Sequence[str]) -> QueryResult:
    """chromadb's QueryResult dict: one record table per query embedding, nearest first.

    Each value is converted from Arrow when first read (`lazy_dict.py`).
    """

    def per_query(item: str | None, build: Callable[[Records], Any]) -> Any:
        if item is not None and item not in include:
            return None
        return Deferred(lambda: [build(t) for t in tables])

    fields = {
        "ids": per_query(None, _ids),
        "embeddings": per_query("embeddings", embeddings_array),
        "documents": per_query("documents", _documents),
        "uris": per_query("uris", lambda t: [None] * t.num_rows),
        "included": list(include),
        "data": None,
        "metadatas": per_query("metadatas", metadatas_from_table),
        "distances": per_query("distances", _distances),
    }
    return QueryResult(fields, tables, include)


def _ids(table: Records) -> list[str]:
    return _array(table.column(ID)).to_pylist()


def embeddings_array(table: Records) -> np.ndarray:
    """The embedding column as a float64 (n, d) array (Chroma's dtype); `np.array([])` if empty."""
    n = table.num_rows
    if n == 0:
        return np.array([], dtype=np.float64)
    if EMBEDDING not in table.schema.names:
        raise InternalError("embeddings were requested but the record table has none")
    col = _array(table.column(EMBEDDING))
    if col.null_count:
        raise InternalError(f"{col.null_count} records have no embedding")
    if pa.types.is_fixed_size_list(col.type):
        d = col.type.list_size
        flat = col.values.slice(col.offset * d, n * d)
    else:
        flat = col.flatten()
        d = len(flat) // n
    return flat.to_numpy(zero_copy_only=False).reshape(n, d).astype(np.float64)


def _documents(table: Records) -> list[str | None]:
    if DOCUMENT not in table.schema.names:
        return [None] * table.num_rows
    return _array(table.column(DOCUMENT)).to_pylist()


def _distances(table: Records) -> list[float]:
    if DISTANCE not in table.schema.names:
        raise InternalError("distances were requested but the result has no distance column")
    return _array(table.column(DISTANCE)).to_pylist()


def _array(col: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous array from a table column (record batches already give one)."""
    if isinstance(col, pa.ChunkedArray):
        return col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    return col
