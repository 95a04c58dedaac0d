"""The Arrow shapes every component agrees on: write batches, record tables and metadata columns.

A record's metadata is stored wide and typed: one column per (key, type), named `"<tag>:<key>"`,
where the tag is the value's type (`s` str, `i` int, `f` float, `b` bool, and `ls`/`li`/`lf`/`lb` for
non-empty lists of them). A key holds at most one typed value per record. Write batches for update
and upsert may also carry `"x:<key>"` booleans: true means "remove this key" (Chroma's None value).

Write batch (one WAL frame, one atomic write):  id utf8 (unique), embedding
fixed_size_list<float32>[dim] (null = not given), document utf8 (null = not given), metadata
columns, unset columns. A delete batch has only `id`.

Record table (index versions and the materialized log tail): id, label, embedding, document,
metadata columns. `label` (uint64) is `(seq << 32) | row` of the write that created the record: it
stays with the record through updates, is its usearch key, and orders records by insertion. A
version's record table is sorted by label.
"""

from __future__ import annotations

from enum import IntEnum

import pyarrow as pa

ID = "id"
EMBEDDING = "embedding"
DOCUMENT = "document"
LABEL = "label"
UNSET_TAG = "x"

SCALAR_TAGS: dict[str, pa.DataType] = {
    "s": pa.string(),
    "i": pa.int64(),
    "f": pa.float64(),
    "b": pa.bool_(),
}
LIST_TAGS: dict[str, pa.DataType] = {f"l{t}": pa.list_(typ) for t, typ in SCALAR_TAGS.items()}
META_TAGS: dict[str, pa.DataType] = {**SCALAR_TAGS, **LIST_TAGS}
RESERVED_COLUMNS = frozenset({ID, EMBEDDING, DOCUMENT, LABEL})


class Op(IntEnum):
    """The write operation a log batch carries."""

    ADD = 1
    UPSERT = 2
    UPDATE = 3
    DELETE = 4


def embedding_type(dimension: int) -> pa.DataType:
    """The Arrow type of an embedding column of `dimension` float32 values."""
    return pa.list_(pa.float32(), dimension)


def meta_column(tag: str, key: str) -> str:
    """Physical column name of metadata `key` stored with type `tag`."""
    return f"{tag}:{key}"


def parse_meta_column(name: str) -> tuple[str, str] | None:
    """(tag, key) of a metadata or unset column name, or None for id/embedding/document/label."""
    tag, sep, key = name.partition(":")
    if not sep or (tag not in META_TAGS and tag != UNSET_TAG):
        return None
    return tag, key


def meta_columns_by_key(names: list[str] | tuple[str, ...]) -> dict[str, list[str]]:
    """Group metadata column names (not unset columns) by metadata key."""
    out: dict[str, list[str]] = {}
    for name in names:
        parsed = parse_meta_column(name)
        if parsed and parsed[0] != UNSET_TAG:
            out.setdefault(parsed[1], []).append(name)
    return out


def tag_of_type(typ: pa.DataType) -> str | None:
    """The metadata tag for an Arrow type, or None when the type is not a metadata type."""
    for tag, t in META_TAGS.items():
        if t.equals(typ):
            return tag
    return None


def empty_records(dimension: int | None) -> pa.Table:
    """An empty record table (no metadata columns yet)."""
    fields = [
        pa.field(ID, pa.string()),
        pa.field(LABEL, pa.uint64()),
        pa.field(EMBEDDING, embedding_type(dimension or 1)),
        pa.field(DOCUMENT, pa.string()),
    ]
    return pa.schema(fields).empty_table()


def labels_for(seq: int, rows: int) -> pa.Array:
    """Labels of the records a write at `seq` creates, one per batch row."""
    import numpy as np

    return pa.array((np.uint64(seq) << np.uint64(32)) | np.arange(rows, dtype=np.uint64))


def one_array(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """A column as one Array: a single chunk as it is (no copy; combine_chunks copies even one,
    which for a memory-mapped version is the whole column in anonymous memory), else the chunks
    concatenated."""
    if isinstance(column, pa.Array):
        return column
    if column.num_chunks == 1:
        return column.chunk(0)
    return column.combine_chunks()
