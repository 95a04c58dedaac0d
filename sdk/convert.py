"""Chroma's Python-level write validation, then conversion to the canonical Arrow write batch.

`to_write_batch` accepts what chromadb 1.5.9's `add`/`upsert`/`update`/`delete` accept (one value or
a list of ids, documents and metadatas; embeddings as one vector, a list of vectors, a list of numpy
arrays or a 1-D/2-D numpy array) and raises Chroma's messages, suffixed " in <op>." as Chroma's
`validation_context` does. Checks that Chroma makes in its Rust core (empty ids, metadata keys
starting with '#'/'$', NaN, dimension) are left to `flight_server.validate.validate_write_batch`.
The result builders (`get_result`, `query_result`, ...) live in `results.py` and are re-exported.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from flight_server.api import (
    DOCUMENT,
    EMBEDDING,
    ID,
    META_TAGS,
    RESERVED_METADATA_KEY,
    UNSET_TAG,
    Op,
    duplicate_ids_message,
    int64_message,
    meta_column,
)
from flight_server.api import INCONSISTENT_DIMENSIONS as _INCONSISTENT

from .errors import (
    DuplicateIDError,
    InvalidArgumentError,
    InvalidArgumentOverflowError,
    InvalidArgumentTypeError,
)
from .results import GET_INCLUDE_DEFAULT as GET_INCLUDE_DEFAULT
from .results import INCLUDE_ITEMS as INCLUDE_ITEMS
from .results import QUERY_INCLUDE_DEFAULT as QUERY_INCLUDE_DEFAULT
from .results import get_result as get_result
from .results import metadatas_from_table as metadatas_from_table
from .results import query_result as query_result
from .results import validate_include as validate_include
from .results import validate_limit_offset as validate_limit_offset
from .results import validate_n_results as validate_n_results

_EMBEDDING_DTYPES = (np.float16, np.float32, np.float64, np.int32, np.int64)
_SHAPE_MESSAGE = (
    "Expected embeddings to be a list of floats or ints, a list of lists, a numpy array, "
    "or a list of numpy arrays, got {}"
)
_NO_EF_MESSAGE = (
    "You must provide an embedding function to compute embeddings."
    "https://docs.trychroma.com/guides/embeddings"
)
_TAG_BY_TYPE: dict[type, str] = {str: "s", int: "i", float: "f", bool: "b"}
_INT64_MIN, _INT64_END = -(2**63), 2**63
_NONE_TYPE = type(None)


def to_write_batch(
    op: Op,
    ids: Any,
    embeddings: Any = None,
    metadatas: Any = None,
    documents: Any = None,
    *,
    copy: bool = True,
) -> pa.RecordBatch:
    """Validate Chroma-style write arguments and build the canonical write batch for `op`."""
    op = Op(op)
    w = f" in {op.name.lower()}."
    if op is Op.DELETE and not (embeddings is None and metadatas is None and documents is None):
        raise InvalidArgumentError(f"A delete takes only ids{w}")
    vectors, n_vectors, ragged = _normalize_embeddings(embeddings, copy, w)
    ids = _one_or_many(ids)
    metadatas = _one_or_many(metadatas)
    documents = _one_or_many(documents)
    if op is not Op.DELETE:  # Chroma's delete validates ids alone
        _check_lengths(ids, metadatas, n_vectors if embeddings is not None else None, documents, w)
    doc_array = None
    if documents is not None:
        doc_array = _documents_array(documents, nullable=embeddings is not None, w=w)
    id_array = _ids_array(ids, w)
    meta = _metadata_arrays(metadatas, len(id_array), op, w) if metadatas is not None else []
    if ragged:
        raise InvalidArgumentError(_INCONSISTENT)
    if vectors is None and op in (Op.ADD, Op.UPSERT):
        if documents is None:
            kinds = "documents, images, uris" if op is Op.ADD else "documents, images"
            raise InvalidArgumentError(f"Exactly one of {kinds} must be provided{w}")
        raise InvalidArgumentError(f"{_NO_EF_MESSAGE}{w}")
    columns: list[tuple[pa.Field, pa.Array]] = [
        (pa.field(ID, pa.string(), nullable=False), id_array)
    ]
    if vectors is not None:
        emb = pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), vectors.shape[1])
        columns.append((pa.field(EMBEDDING, emb.type), emb))
    if doc_array is not None:
        columns.append((pa.field(DOCUMENT, pa.string()), doc_array))
    columns.extend((pa.field(name, arr.type), arr) for name, arr in meta)
    schema = pa.schema([f for f, _ in columns])
    return pa.RecordBatch.from_arrays([a for _, a in columns], schema=schema)


def normalize_embeddings(embeddings: Any, op_name: str = "query") -> np.ndarray:
    """Query (or other) embeddings as Chroma normalizes them, as one float32 (n, d) array."""
    vectors, _, ragged = _normalize_embeddings(embeddings, False, f" in {op_name}.")
    if ragged:
        raise InvalidArgumentError(_INCONSISTENT)
    if vectors is None:
        raise InvalidArgumentError(f"Expected embeddings to be provided in {op_name}.")
    return vectors


def _one_or_many(target: Any) -> Any:
    """Chroma's `maybe_cast_one_to_many`: None stays None, a list stays, anything else is wrapped."""
    if target is None or isinstance(target, list):
        return target
    return [target]


def _short(value: Any, limit: int = 200) -> str:
    """str(value), cut for messages (Chroma prints the whole value)."""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_lengths(ids: Any, metas: Any, n_vectors: int | None, docs: Any, w: str) -> None:
    """Chroma's `_validate_record_set_length_consistency` (fields in its record-set order)."""
    fields = [("ids", ids), ("metadatas", metas), ("embeddings", n_vectors), ("documents", docs)]
    lengths = {k: v if isinstance(v, int) else len(v) for k, v in fields if v is not None}
    if not lengths:
        raise InvalidArgumentError(
            "At least one of one of ids, metadatas, embeddings, documents, images, uris must be "
            f"provided{w}"
        )
    zero = [k for k, n in lengths.items() if n == 0]
    if zero:
        raise InvalidArgumentError(f"Non-empty lists are required for {zero}{w}")
    if len(set(lengths.values())) > 1:
        text = ", ".join(f"{k}: {n}" for k, n in lengths.items())
        raise InvalidArgumentError(f"Unequal lengths for fields: {text}{w}")


def _normalize_embeddings(target: Any, copy: bool, w: str) -> tuple[np.ndarray | None, int, bool]:
    """(float32 C-contiguous (n, d) array or None, n, ragged) as Chroma's normalize_embeddings."""
    if target is None:
        return None, 0, False
    try:
        size = len(target)
    except TypeError:
        raise InvalidArgumentError(_SHAPE_MESSAGE.format(_short(target)) + w) from None
    if size == 0:
        raise InvalidArgumentError(
            f"Expected Embeddings to be non-empty list or numpy array, got {_short(target)}{w}"
        )
    if isinstance(target, np.ndarray):
        if target.ndim not in (1, 2):
            raise InvalidArgumentError(_SHAPE_MESSAGE.format(_short(target)) + w)
        rows = target.reshape(1, -1) if target.ndim == 1 else target
        _check_rows(rows, w)
        return _as_float32(rows, copy), len(rows), False
    if isinstance(target, list):
        first = target[0]
        if isinstance(first, (int, float)) and not isinstance(first, bool):
            return _from_python([target], w), 1, False
        if isinstance(first, np.ndarray):
            return _from_arrays(target, w)
        if isinstance(first, list) and not first:
            raise InvalidArgumentError(_empty_row_message(0) + w)
        if isinstance(first, list) and _is_number(first[0]):
            try:
                return _from_python(target, w), size, False
            except _Ragged:
                return None, size, True
    raise InvalidArgumentError(_SHAPE_MESSAGE.format(_short(target)) + w)


class _Ragged(Exception):
    """Rows of different lengths (Chroma reports this from its core, after Python validation)."""


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _empty_row_message(pos: int) -> str:
    return (
        "Expected each embedding in the embeddings to be a 1-dimensional numpy array with at "
        f"least 1 int/float value. Got a 1-dimensional numpy array with no values at pos {pos}"
    )


def _check_rows(rows: np.ndarray, w: str) -> None:
    """Chroma's `validate_embeddings` for a 2-D array: non-empty rows of an accepted dtype."""
    if rows.shape[1] == 0:
        raise InvalidArgumentError(_empty_row_message(0) + w)
    if rows.dtype not in _EMBEDDING_DTYPES:
        raise InvalidArgumentError(
            "Expected each value in the embedding to be a int or float, got an embedding with "
            f"{rows.dtype} - {rows[0]}{w}"
        )


def _as_float32(rows: np.ndarray, copy: bool) -> np.ndarray:
    """One conversion to a C-contiguous float32 array (a copy unless copy=False allows a view)."""
    with np.errstate(over="ignore", invalid="ignore"):
        if rows.dtype != np.float32:
            return rows.astype(np.float32, order="C")
        if copy or not rows.flags.c_contiguous:
            return np.array(rows, dtype=np.float32, order="C", copy=True)
        return rows


def _from_python(rows: list[Any], w: str) -> np.ndarray:
    """A list of lists of numbers as float32 (n, d); raise _Ragged for rows of unequal length."""
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            arr = np.array(rows, dtype=np.float32)
    except (TypeError, ValueError):
        try:  # Chroma converts row by row: its error, or rows of unequal length
            with np.errstate(over="ignore", invalid="ignore"):
                converted = [np.array(row, dtype=np.float32) for row in rows]
        except ValueError as exc:
            raise InvalidArgumentError(f"{exc}{w}") from None
        except TypeError as exc:
            raise InvalidArgumentError(f"{exc}{w}") from None
        for row in converted:
            if row.ndim == 0:
                raise InvalidArgumentError(
                    f"Expected a 1-dimensional array, got a 0-dimensional array {row}{w}"
                ) from None
        if len({row.shape for row in converted}) > 1:
            raise _Ragged from None
        raise InvalidArgumentError(_SHAPE_MESSAGE.format(_short(rows)) + w) from None
    if arr.ndim != 2:
        raise InvalidArgumentError(_SHAPE_MESSAGE.format(_short(rows)) + w)
    if arr.shape[1] == 0:
        raise InvalidArgumentError(_empty_row_message(0) + w)
    return arr


def _from_arrays(rows: list[Any], w: str) -> tuple[np.ndarray | None, int, bool]:
    """A list of numpy arrays (Chroma's `validate_embeddings` checks) as float32 (n, d)."""
    if not all(isinstance(e, np.ndarray) for e in rows):
        kinds = sorted({type(e).__name__ for e in rows})
        raise InvalidArgumentError(
            f"Expected each embedding in the embeddings to be a numpy array, got {kinds}{w}"
        )
    for pos, row in enumerate(rows):
        if row.ndim == 0:
            raise InvalidArgumentError(
                f"Expected a 1-dimensional array, got a 0-dimensional array {row}{w}"
            )
        if row.size == 0:
            raise InvalidArgumentError(_empty_row_message(pos) + w)
        if row.dtype not in _EMBEDDING_DTYPES:
            raise InvalidArgumentError(
                "Expected each value in the embedding to be a int or float, got an embedding "
                f"with {row.dtype} - {row}{w}"
            )
    if len({r.shape for r in rows}) > 1 or rows[0].ndim != 1:
        return None, len(rows), True
    with np.errstate(over="ignore", invalid="ignore"):
        return np.array(rows, dtype=np.float32), len(rows), False


def _ids_array(ids: Any, w: str) -> pa.Array:
    """Chroma's `validate_ids` (list, non-empty, str, unique) as a utf8 array."""
    if not isinstance(ids, list):
        raise InvalidArgumentError(f"Expected IDs to be a list, got {type(ids).__name__} as IDs{w}")
    if not ids:
        raise InvalidArgumentError(f"Expected IDs to be a non-empty list, got 0 IDs{w}")
    if not set(map(type, ids)) <= {str}:
        for id_ in ids:
            if not isinstance(id_, str):
                raise InvalidArgumentError(f"Expected ID to be a str, got {_short(id_)}{w}")
    arr = pa.array(ids, type=pa.string())
    if pc.count_distinct(arr).as_py() != len(arr):
        counts = pc.value_counts(arr)
        dups = counts.field("values").filter(pc.greater(counts.field("counts"), 1))
        raise DuplicateIDError(duplicate_ids_message(dups.to_pylist()) + w)
    return arr


def _documents_array(docs: list[Any], nullable: bool, w: str) -> pa.Array:
    """Chroma's `validate_documents` (str, or None when embeddings are given) as utf8."""
    allowed = {str, _NONE_TYPE} if nullable else {str}
    if not set(map(type, docs)) <= allowed:
        for doc in docs:
            if not (isinstance(doc, str) or (nullable and doc is None)):
                raise InvalidArgumentError(f"Expected document to be a str, got {_short(doc)}{w}")
    return pa.array(docs, type=pa.string())


def _metadata_arrays(metas: list[Any], n: int, op: Op, w: str) -> list[tuple[str, pa.Array]]:
    """Chroma's `validate_metadatas`, building one typed column per (tag, key) in the same pass."""
    unset_ok = op in (Op.UPDATE, Op.UPSERT)
    cols: dict[tuple[str, str], list[Any]] = {}
    tag_by_type = _TAG_BY_TYPE
    for i, md in enumerate(metas):
        if md is None:
            continue
        if not isinstance(md, dict):
            raise InvalidArgumentError(
                f"Expected metadata to be a dict or None, got {type(md).__name__} as metadata{w}"
            )
        if not md:
            raise InvalidArgumentError(
                f"Expected metadata to be a non-empty dict, got 0 metadata attributes{w}"
            )
        for key, value in md.items():
            if type(key) is not str or key == RESERVED_METADATA_KEY:
                _check_key(key, w)
            tag = tag_by_type.get(type(value))
            if tag is None or (tag == "i" and not _INT64_MIN <= value < _INT64_END):
                tag, value = _slow_value(key, value, unset_ok, w)
            col = cols.get((key, tag))
            if col is None:
                col = cols[(key, tag)] = [None] * n
            col[i] = value
    out = []
    for key, tag in sorted(cols, key=lambda kt: (kt[1] == UNSET_TAG, kt[0], kt[1])):
        typ = pa.bool_() if tag == UNSET_TAG else META_TAGS[tag]
        out.append((meta_column(tag, key), pa.array(cols[(key, tag)], type=typ)))
    return out


def _check_key(key: Any, w: str) -> None:
    """The key checks Chroma's Python client makes (the reserved key first, then the type)."""
    if key == RESERVED_METADATA_KEY:
        raise InvalidArgumentError(
            f"Expected metadata to not contain the reserved key {RESERVED_METADATA_KEY}{w}"
        )
    if not isinstance(key, str):
        raise InvalidArgumentTypeError(
            f"Expected metadata key to be a str, got {key} which is a {type(key).__name__}{w}"
        )


def _slow_value(key: str, value: Any, unset_ok: bool, w: str) -> tuple[str, Any]:
    """(tag, value) for values that are not plain str/int/float/bool, or Chroma's error."""
    if value is None:
        if unset_ok:
            return UNSET_TAG, True
        raise InvalidArgumentTypeError(
            "argument 'metadatas': Cannot convert Python object to MetadataValue: None value for "
            f"key {key!r} (None removes a key only in update and upsert){w}"
        )
    if isinstance(value, bool):
        return "b", bool(value)
    if isinstance(value, int):
        value = int(value)
        if not _INT64_MIN <= value < _INT64_END:
            raise InvalidArgumentOverflowError(int64_message(key, value) + w)
        return "i", value
    if isinstance(value, float):
        return "f", float(value)
    if isinstance(value, str):
        return "s", str(value)
    if isinstance(value, list):
        return _list_value(key, value, w)
    raise InvalidArgumentError(
        "Expected metadata value to be a str, int, float, bool, SparseVector, list, or None, got "
        f"{_short(value)} which is a {type(value).__name__}{w}"
    )


def _list_value(key: str, value: list[Any], w: str) -> tuple[str, list[Any]]:
    """Chroma's `_validate_metadata_list_value`: non-empty, one of str/int/float/bool throughout."""
    if not value:
        raise InvalidArgumentError(
            f"Expected metadata list value for key '{key}' to be non-empty{w}"
        )
    first = bool if isinstance(value[0], bool) else type(value[0])
    if first not in _TAG_BY_TYPE or any(type(v) is not first for v in value):
        raise InvalidArgumentError(
            f"Expected metadata list value for key '{key}' to contain only str, int, float, or "
            f"bool and all elements must be the same type, got {_short(value)}{w}"
        )
    if first is int:
        for v in value:
            if not _INT64_MIN <= v < _INT64_END:
                raise InvalidArgumentOverflowError(int64_message(key, v) + w)
    return "l" + _TAG_BY_TYPE[first], value
