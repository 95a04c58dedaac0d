"""Engine-side validation of write batches (any client's), vectorized with pyarrow and numpy.

The normalized batch has columns in canonical order (id, embedding, document, metadata columns by
key then tag, unset columns by key), the embedding as fixed_size_list<float32>[dim], strings as
utf8. Messages follow Chroma 1.5.9 where it has one; limits raise QuotaError (limit, value, max).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..config import Settings
from ..errors import (
    BatchSizeExceededError,
    DuplicateIDError,
    InvalidArgumentError,
    InvalidDimensionException,
    QuotaError,
)
from ..schema import (
    DOCUMENT,
    EMBEDDING,
    ID,
    LIST_TAGS,
    META_TAGS,
    UNSET_TAG,
    Op,
    embedding_type,
    meta_column,
    parse_meta_column,
)
from .collection_meta import finite_message

RESERVED_METADATA_KEY = "chroma:document"
NAN_MESSAGE = "Validation error: embeddings: Embeddings must not contain NaN or Infinity values"
INCONSISTENT_DIMENSIONS = "Inconsistent dimensions in provided embeddings"
EMPTY_ID_MESSAGE = "Empty ID, ID must have at least one character"
_FLOAT_TYPES = (pa.float16(), pa.float32(), pa.float64(), pa.int32(), pa.int64())


def duplicate_ids_message(dups: Sequence[str]) -> str:
    """Chroma's message for duplicate ids (`validate_ids`), examples in first-seen order."""
    if len(dups) < 10:
        return f"Expected IDs to be unique, found duplicates of: {', '.join(dups)}"
    examples = list(dups[:11])
    shown = f"{', '.join(examples[:5])}, ..., {', '.join(examples[-5:])}"
    return f"Expected IDs to be unique, found {len(dups)} duplicated IDs: {shown}"


def dimension_message(expected: int, got: int) -> str:
    """Chroma's message for an embedding whose dimension differs from the collection's."""
    return f"Collection expecting embedding with dimension of {expected}, got {got}"


def validate_metadata_key(key: str) -> str | None:
    """Why `key` is not a valid metadata key (Chroma's rules), or None when it is valid."""
    if key == "":
        return "Metadata key cannot be empty"
    if key[0] in "#$":
        return f"Metadata key cannot start with '#' or '$': {key}"
    if key == RESERVED_METADATA_KEY:
        return f"Expected metadata to not contain the reserved key {RESERVED_METADATA_KEY}"
    return None


def validate_write_batch(
    op: Op, batch: pa.RecordBatch, dimension: int | None, settings: Settings
) -> pa.RecordBatch:
    """Check a write batch for `op` and return it in canonical form; raise a typed error if bad."""
    op = Op(op)
    ids_idx, emb_idx, doc_idx, meta, unset = _classify(op, batch)
    _check_size(batch, settings)
    cols = batch.columns
    ids = _check_ids(cols[ids_idx], settings)
    out: list[tuple[str, pa.Array]] = [(ID, ids)]
    if emb_idx is not None:
        emb = _check_embedding(op, cols[emb_idx], ids, dimension, settings)
        out += [(EMBEDDING, emb)] if emb is not None else []
    elif op in (Op.ADD, Op.UPSERT):
        raise InvalidArgumentError(
            f"Expected embeddings for every record in {op.name.lower()}: "
            "the batch has no embedding column"
        )
    if doc_idx is not None:
        out.append((DOCUMENT, _check_document(cols[doc_idx], ids, settings)))
    out += _check_metadata(cols, meta, unset, ids, settings)
    schema = pa.schema([pa.field(name, a.type, nullable=name != ID) for name, a in out])
    arrays = [a for _, a in out]
    unchanged = len(arrays) == len(cols) and all(a is b for a, b in zip(arrays, cols, strict=True))
    if unchanged and batch.schema.equals(schema):
        return batch
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _classify(
    op: Op, batch: pa.RecordBatch
) -> tuple[int, int | None, int | None, list[tuple[str, str, int]], list[tuple[str, int]]]:
    """Sort columns into id, embedding, document, metadata (tag, key, i) and unset (key, i)."""
    names = batch.schema.names
    dup_names = sorted({n for n in names if names.count(n) > 1})
    if dup_names:
        raise InvalidArgumentError(f"Duplicate column(s) in write batch: {', '.join(dup_names)}")
    index = {n: i for i, n in enumerate(names)}
    meta: list[tuple[str, str, int]] = []
    unset: list[tuple[str, int]] = []
    unknown: list[str] = []
    for i, name in enumerate(names):
        if name in (ID, EMBEDDING, DOCUMENT):
            continue
        parsed = parse_meta_column(name)
        if parsed is None:
            unknown.append(name)
        elif parsed[0] == UNSET_TAG:
            unset.append((parsed[1], i))
        else:
            meta.append((parsed[0], parsed[1], i))
    if unknown:
        raise InvalidArgumentError(
            f"Unknown column(s) in write batch: {', '.join(repr(u) for u in unknown)}; expected "
            "id, embedding, document, '<tag>:<key>' metadata columns (tags "
            f"{', '.join(META_TAGS)}) and 'x:<key>' unset columns"
        )
    if ID not in index:
        raise InvalidArgumentError("Write batch has no id column")
    if op is Op.DELETE and len(names) > 1:
        extra = ", ".join(n for n in names if n != ID)
        raise InvalidArgumentError(f"A delete batch carries only the id column, got: {extra}")
    if unset and op not in (Op.UPDATE, Op.UPSERT):
        cols = ", ".join(meta_column(UNSET_TAG, k) for k, _ in unset)
        raise InvalidArgumentError(
            f"Unset columns are only allowed in update and upsert, got {cols} in {op.name.lower()}"
        )
    return index[ID], index.get(EMBEDDING), index.get(DOCUMENT), meta, unset


def _check_size(batch: pa.RecordBatch, settings: Settings) -> None:
    """Rows and bytes of the batch against max_batch_rows / max_batch_bytes."""
    n = batch.num_rows
    if n > settings.max_batch_rows:
        raise BatchSizeExceededError("max_batch_rows", n, settings.max_batch_rows, "Batch size")
    if n == 0:
        raise InvalidArgumentError("Expected IDs to be a non-empty list, got 0 IDs")
    nbytes = batch.nbytes
    if nbytes > settings.max_batch_bytes:
        raise QuotaError(
            "max_batch_bytes", nbytes, settings.max_batch_bytes, "Write batch size in bytes"
        )


def _rid(ids: pa.Array, i: int) -> str:
    """A short repr of the id at row i, for messages."""
    text = ids[int(i)].as_py()
    return repr(text if len(text) <= 64 else text[:61] + "...")


def _mask(arr: pa.Array) -> np.ndarray:
    """A boolean Arrow array as a numpy bool array."""
    return arr.to_numpy(zero_copy_only=False)


def _first(arr: pa.Array) -> int:
    """Index of the first true value of a boolean Arrow array."""
    return int(np.flatnonzero(_mask(arr))[0])


def _is_string(typ: pa.DataType) -> bool:
    return bool(pa.types.is_string(typ) or pa.types.is_large_string(typ)) or (
        typ == pa.string_view()
    )


def _as_utf8(arr: pa.Array) -> pa.Array:
    return arr if arr.type == pa.string() else arr.cast(pa.string())


def _check_ids(col: pa.Array, settings: Settings) -> pa.Array:
    """Ids: utf8, no nulls, non-empty, within max_id_bytes, unique."""
    if not _is_string(col.type):
        raise InvalidArgumentError(f"Column id must be utf8 strings, got {col.type}")
    ids = _as_utf8(col)
    if ids.null_count:
        raise InvalidArgumentError(
            f"Expected ID to be a str, got None (record {_first(pc.is_null(ids))})"
        )
    lengths = pc.binary_length(ids)
    mm = pc.min_max(lengths)
    if mm["min"].as_py() == 0:
        raise InvalidArgumentError(EMPTY_ID_MESSAGE)
    longest = mm["max"].as_py()
    if longest > settings.max_id_bytes:
        i = pc.index(lengths, longest).as_py()
        what = f"Byte length of id {_rid(ids, i)}"
        raise QuotaError("max_id_bytes", longest, settings.max_id_bytes, what)
    if pc.count_distinct(ids).as_py() != len(ids):
        counts = pc.value_counts(ids)
        dups = counts.field("values").filter(pc.greater(counts.field("counts"), 1))
        raise DuplicateIDError(duplicate_ids_message(dups.to_pylist()))
    return ids


def _check_embedding(
    op: Op, col: pa.Array, ids: pa.Array, dimension: int | None, settings: Settings
) -> pa.Array | None:
    """The embedding column as fixed_size_list<float32>[d]; None when an update gives none."""
    typ, n = col.type, len(col)
    is_fixed = pa.types.is_fixed_size_list(typ)
    if not (is_fixed or pa.types.is_list(typ) or pa.types.is_large_list(typ)) or not any(
        typ.value_type.equals(t) for t in _FLOAT_TYPES
    ):
        raise InvalidArgumentError(
            "Column embedding must be fixed_size_list<float32>[dim] (or a list of floats or "
            f"ints), got {typ}"
        )
    nulls = col.null_count
    if nulls and op in (Op.ADD, Op.UPSERT):
        raise InvalidArgumentError(
            f"Expected embeddings for every record in {op.name.lower()}: record id "
            f"{_rid(ids, _first(pc.is_null(col)))} has none ({nulls} of {n} records missing)"
        )
    if nulls == n:
        return None
    if is_fixed:
        d = typ.list_size
    else:
        mm = pc.min_max(pc.list_value_length(col))
        d = mm["min"].as_py()
        if d != mm["max"].as_py():
            raise InvalidArgumentError(
                f"{INCONSISTENT_DIMENSIONS} (lengths {d} to {mm['max'].as_py()})"
            )
    if d == 0:
        raise InvalidArgumentError(
            "Expected each embedding in the embeddings to be a 1-dimensional numpy array with at "
            "least 1 int/float value. Got a 1-dimensional numpy array with no values at pos 0"
        )
    if d > settings.max_dimension:
        raise QuotaError("max_dimension", d, settings.max_dimension, "Embedding dimension")
    if dimension is not None and d != dimension:
        raise InvalidDimensionException(dimension_message(dimension, d))
    target = embedding_type(d)
    if is_fixed:
        emb = col if typ.equals(target) else pc.cast(col, target, safe=False)
    else:
        emb = _fixed_from_list(col, d)
    flat = emb.flatten() if nulls else emb.values.slice(emb.offset * d, n * d)
    rows = np.flatnonzero(_mask(pc.is_valid(emb))) if nulls else np.arange(n)  # flat row -> row
    if flat.null_count:
        row = rows[_first(pc.is_null(flat)) // d]
        raise InvalidArgumentError(f"Embedding of record id {_rid(ids, row)} contains null values")
    finite = np.isfinite(flat.to_numpy(zero_copy_only=False))
    if not finite.all():
        raise InvalidArgumentError(
            f"{NAN_MESSAGE} (record id {_rid(ids, rows[np.argmin(finite) // d])})"
        )
    return emb


def _fixed_from_list(col: pa.Array, d: int) -> pa.Array:
    """A variable-size list column of equal lengths as fixed_size_list<float32>[d]."""
    values = pc.cast(col.flatten(), pa.float32(), safe=False)
    if not col.null_count:
        return pa.FixedSizeListArray.from_arrays(values, d)
    valid = _mask(pc.is_valid(col))
    full = np.zeros((len(col), d), dtype=np.float32)
    full[valid] = values.to_numpy(zero_copy_only=False).reshape(-1, d)
    mask = pa.array(~valid)
    return pa.FixedSizeListArray.from_arrays(pa.array(full.reshape(-1)), d, mask=mask)


def _check_document(col: pa.Array, ids: pa.Array, settings: Settings) -> pa.Array:
    """Documents: utf8 (null = not given), each within max_document_bytes."""
    if not _is_string(col.type):
        raise InvalidArgumentError(f"Column document must be utf8 strings, got {col.type}")
    doc = _as_utf8(col)
    if doc.null_count == len(doc):
        return doc
    lengths = pc.binary_length(doc)
    longest = pc.max(lengths).as_py()
    if longest > settings.max_document_bytes:
        i = pc.index(lengths, longest).as_py()
        what = f"Byte length of the document of record id {_rid(ids, i)}"
        raise QuotaError("max_document_bytes", longest, settings.max_document_bytes, what)
    return doc


def _check_metadata(
    cols: list[pa.Array],
    meta: list[tuple[str, str, int]],
    unset: list[tuple[str, int]],
    ids: pa.Array,
    settings: Settings,
) -> list[tuple[str, pa.Array]]:
    """Typed metadata and unset columns, checked and in canonical order."""
    out: list[tuple[str, pa.Array]] = []
    valid_by_key: dict[str, list[np.ndarray]] = {}
    for tag, key, i in sorted(meta, key=lambda m: (m[1], m[0])):
        name = meta_column(tag, key)
        arr = _coerce_meta(name, tag, cols[i])
        _check_key(key, arr, name)
        _check_meta_values(tag, key, arr, ids, settings)
        valid_by_key.setdefault(key, []).append(_mask(pc.is_valid(arr)))
        out.append((name, arr))
    n = len(cols[0])
    counts = np.zeros(n, dtype=np.int64)
    for key, masks in valid_by_key.items():
        per_key = np.sum(masks, axis=0) if len(masks) > 1 else masks[0].astype(np.int64)
        if per_key.max(initial=0) > 1:
            row = int(np.argmax(per_key))
            raise InvalidArgumentError(
                f"Metadata key {key!r} has more than one typed value for record id {_rid(ids, row)}"
            )
        counts += per_key
    if n and counts.max() > settings.max_metadata_keys:
        row = int(np.argmax(counts))
        what = f"Metadata keys of record id {_rid(ids, row)}"
        raise QuotaError("max_metadata_keys", int(counts[row]), settings.max_metadata_keys, what)
    for key, i in sorted(unset):
        name = meta_column(UNSET_TAG, key)
        arr = cols[i]
        if not pa.types.is_boolean(arr.type):
            raise InvalidArgumentError(f"Unset column {name!r} must be bool, got {arr.type}")
        _check_key(key, arr, name)
        if key in valid_by_key:
            both = _mask(pc.fill_null(arr, False)) & (np.sum(valid_by_key[key], axis=0) > 0)
            if both.any():
                row = int(np.argmax(both))
                raise InvalidArgumentError(
                    f"Metadata key {key!r} is both set and unset for record id {_rid(ids, row)}"
                )
        out.append((name, arr))
    return out


def _check_key(key: str, arr: pa.Array, name: str) -> None:
    """Chroma's key rules; the row index named is the first record that uses the key."""
    problem = validate_metadata_key(key)
    if problem is None:
        return
    at = _first(pc.is_valid(arr)) if arr.null_count < len(arr) else 0
    raise InvalidArgumentError(
        f"Validation error: metadatas: Invalid metadata at index {at}: {problem} (column {name!r})"
    )


_FAMILIES: dict[str, Any] = {
    "s": _is_string,
    "i": pa.types.is_integer,
    "f": pa.types.is_floating,
    "b": pa.types.is_boolean,
}


def _family_ok(tag: str, typ: pa.DataType) -> bool:
    """Whether an Arrow type may be cast losslessly to the metadata tag's type."""
    if tag in LIST_TAGS:
        is_list = pa.types.is_list(typ) or pa.types.is_large_list(typ)
        return bool(is_list and _FAMILIES[tag[1:]](typ.value_type))
    return bool(_FAMILIES[tag](typ))


def _coerce_meta(name: str, tag: str, arr: pa.Array) -> pa.Array:
    """A metadata column in its tag's canonical Arrow type (safe casts only)."""
    target = META_TAGS[tag]
    if arr.type.equals(target):
        return arr
    if _family_ok(tag, arr.type):
        try:
            return pc.cast(arr, target, safe=True)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise InvalidArgumentError(
                f"Metadata column {name!r} cannot be {target}: {exc}"
            ) from None
    raise InvalidArgumentError(f"Metadata column {name!r} must be {target}, got {arr.type}")


def _check_meta_values(tag: str, key: str, arr: pa.Array, ids: pa.Array, s: Settings) -> None:
    """Non-empty lists without nulls, string values within max_metadata_value_bytes."""
    if arr.null_count == len(arr):
        return
    strings: Any = arr
    if tag in LIST_TAGS:
        lengths = pc.list_value_length(arr)
        if pc.min(lengths).as_py() == 0:
            row = pc.index(lengths, 0).as_py()
            raise InvalidArgumentError(
                f"Expected metadata list value for key '{key}' to be non-empty "
                f"(record id {_rid(ids, row)})"
            )
        strings = arr.flatten()
        if strings.null_count:
            raise InvalidArgumentError(
                f"Expected metadata list value for key '{key}' to contain only str, int, float, "
                "or bool and all elements must be the same type, got a null element"
            )
    if tag in ("f", "lf"):
        _check_finite(tag, key, arr, strings, ids)
    if tag in ("s", "ls"):
        lengths = pc.binary_length(strings)
        longest = pc.max(lengths).as_py()
        if longest > s.max_metadata_value_bytes:
            row = _row_of_longest(arr, tag, lengths, longest)
            what = f"Byte length of metadata value {key!r} of record id {_rid(ids, row)}"
            raise QuotaError("max_metadata_value_bytes", longest, s.max_metadata_value_bytes, what)


def _check_finite(tag: str, key: str, arr: pa.Array, values: pa.Array, ids: pa.Array) -> None:
    """Float metadata must be finite: NaN and infinities would match range filters wrongly."""
    bad = pc.invert(pc.fill_null(pc.is_finite(values), True))
    if not pc.any(bad).as_py():
        return
    pos = _first(bad)
    row = pos if tag == "f" else _row_of_element(arr, pos)
    raise InvalidArgumentError(
        f"{finite_message(key, values[pos].as_py())} (record id {_rid(ids, row)})"
    )


def _row_of_element(arr: pa.Array, pos: int) -> int:
    """The record holding element `pos` of a list column's flattened values."""
    list_lengths = pc.fill_null(pc.list_value_length(arr), 0).to_numpy()
    return int(np.searchsorted(np.cumsum(list_lengths), pos, side="right"))


def _row_of_longest(arr: pa.Array, tag: str, lengths: pa.Array, longest: int) -> int:
    """The record holding the longest string value (list columns map element to row)."""
    pos = pc.index(lengths, longest).as_py()
    return int(pos) if tag == "s" else _row_of_element(arr, int(pos))
