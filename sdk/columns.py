"""Column names between users' tables and FletchDB's typed write batches, both ways, vectorized.

Users' tables (Arrow, Polars, pandas, Parquet) name metadata columns by key: `genre`, `year`.
FletchDB stores one typed column per (key, type): `s:genre`, `i:year` (see flight_server.schema).

- `canonical_batch` maps a user batch to a write batch: `id`, `embedding` and `document` map to
  themselves; a column named `<tag>:<key>` with a known tag is taken as that typed column; every
  other column is metadata key `<name>`, its tag inferred from its Arrow type.
- `display_names` is the inverse for results and exports: a metadata column is shown under its
  bare key when the key has one type there and the bare key cannot be mistaken for anything
  else; otherwise it keeps its typed name. So `canonical_batch` reads back what was shown.
"""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc

from flight_server.api import DOCUMENT, EMBEDDING, ID, LABEL, meta_column, parse_meta_column

from .errors import InvalidArgumentError

DISTANCE = "distance"
QUERY_INDEX = "query_index"
# names a bare metadata key is never shown as (they are columns of their own in results)
RESERVED_NAMES = frozenset({ID, EMBEDDING, DOCUMENT, LABEL, DISTANCE, QUERY_INDEX})
_SCALAR_TAG = (
    (pa.types.is_boolean, "b", pa.bool_()),
    (pa.types.is_integer, "i", pa.int64()),
    (pa.types.is_floating, "f", pa.float64()),
)


def display_names(names: list[str]) -> list[str]:
    """Result/export column names: metadata columns by bare key where that is unambiguous."""
    keys = Counter(p[1] for n in names if (p := parse_meta_column(n)) is not None)
    out = []
    for name in names:
        parsed = parse_meta_column(name)
        key = parsed[1] if parsed is not None else None
        plain = (
            key is not None
            and keys[key] == 1
            and key not in RESERVED_NAMES
            and parse_meta_column(key) is None
        )
        out.append(key if plain and key is not None else name)
    return out


def canonical_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """A user batch as a write batch: columns renamed and cast; validation is left to the engine."""
    names: list[str] = []
    arrays: list[pa.Array] = []
    for name, col in zip(batch.schema.names, batch.columns, strict=True):
        col = _decoded(col)
        if name == ID:
            arr: pa.Array | None = _strings(col)
        elif name == EMBEDDING:
            arr = _embedding(col)
        elif name == DOCUMENT:
            arr = pa.nulls(len(col), pa.string()) if pa.types.is_null(col.type) else _strings(col)
        elif parse_meta_column(name) is not None:
            arr = col  # already typed: `<tag>:<key>` (or an `x:<key>` unset column)
        else:
            name, arr = _metadata(name, col)
        if arr is not None:
            names.append(name)
            arrays.append(arr)
    return pa.RecordBatch.from_arrays(arrays, names=names)


def _decoded(col: pa.Array) -> pa.Array:
    """Dictionary-encoded columns (pandas categoricals, Polars Categorical) as plain values."""
    if pa.types.is_dictionary(col.type):
        return col.cast(col.type.value_type)
    return col


def is_string_type(typ: pa.DataType) -> bool:
    """Whether an Arrow type holds strings (utf8, large_utf8 or string_view)."""
    return bool(pa.types.is_string(typ) or pa.types.is_large_string(typ)) or typ == pa.string_view()


def _strings(col: pa.Array) -> pa.Array:
    """String columns as utf8 (others are left for the engine to refuse with its message)."""
    return col.cast(pa.string()) if is_string_type(col.type) and col.type != pa.string() else col


def _is_list(typ: pa.DataType) -> bool:
    return bool(
        pa.types.is_list(typ)
        or pa.types.is_large_list(typ)
        or pa.types.is_fixed_size_list(typ)
        or pa.types.is_list_view(typ)
        or pa.types.is_large_list_view(typ)
    )


def _embedding(col: pa.Array) -> pa.Array:
    """An embedding column as fixed_size_list<float32>[d] where it converts without loss of rows.

    Lists of unequal lengths, nulls or non-numeric values are left as they are: the engine's
    validation refuses them with the same message as for the list API.
    """
    typ = col.type
    if not _is_list(typ) or not (
        pa.types.is_floating(typ.value_type) or pa.types.is_integer(typ.value_type)
    ):
        return col
    if pa.types.is_fixed_size_list(typ):
        if typ.value_type == pa.float32():
            return col
        return col.cast(pa.list_(pa.float32(), typ.list_size), safe=False)
    if pa.types.is_list_view(typ) or pa.types.is_large_list_view(typ):
        col = col.cast(pa.large_list(typ.value_type))
    if col.null_count or len(col) == 0:
        return col
    lengths = pc.list_value_length(col)
    mm = pc.min_max(lengths)
    d = mm["min"].as_py()
    if d != mm["max"].as_py() or d == 0:
        return col
    values = pc.list_flatten(col).cast(pa.float32(), safe=False)
    return pa.FixedSizeListArray.from_arrays(values, d)


def _metadata(name: str, col: pa.Array) -> tuple[str, pa.Array | None]:
    """(typed column name, values) for metadata key `name`; None values for an all-null column."""
    typ = col.type
    if pa.types.is_null(typ):
        return name, None  # nothing to store (e.g. an all-None pandas column)
    tag, target = _tag_of(name, typ)
    if tag is None:
        raise InvalidArgumentError(
            f"Column {name!r} has type {typ}: a metadata column must hold str, int, float or "
            "bool values, or lists of one of them (convert it first, e.g. timestamps to strings)"
        )
    if not col.type.equals(target):
        try:
            col = col.cast(target, safe=True)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise InvalidArgumentError(
                f"Metadata column {name!r} cannot be {target}: {exc}"
            ) from None
    return meta_column(tag, name), col


def _tag_of(name: str, typ: pa.DataType) -> tuple[str | None, pa.DataType]:
    """The metadata tag and canonical Arrow type for a column's type (None: not a metadata type)."""
    if is_string_type(typ):
        return "s", pa.string()
    for test, tag, target in _SCALAR_TAG:
        if test(typ):
            return tag, target
    if _is_list(typ):
        inner, inner_type = _tag_of(name, _decoded_type(typ.value_type))
        if inner is not None and not inner.startswith("l"):
            return "l" + inner, pa.list_(inner_type)
    return None, typ


def _decoded_type(typ: pa.DataType) -> pa.DataType:
    return typ.value_type if pa.types.is_dictionary(typ) else typ
