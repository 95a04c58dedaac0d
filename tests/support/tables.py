"""Build the typed wide record table (`flight_server.schema`) from Chroma-shaped records."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from flight_server.schema import DOCUMENT, ID, META_TAGS, meta_column


def _tag(value: Any) -> str:
    """The schema tag of one metadata value (bool before int: bool is an int in Python)."""
    if isinstance(value, list):
        return "l" + _tag(value[0])
    if isinstance(value, bool):
        return "b"
    if isinstance(value, int):
        return "i"
    if isinstance(value, float):
        return "f"
    if isinstance(value, str):
        return "s"
    raise TypeError(f"not a metadata value: {value!r}")


def to_wide_table(
    ids: Sequence[str],
    metadatas: Sequence[dict[str, Any] | None],
    documents: Sequence[str | None],
) -> pa.Table:
    """id, document and one typed column per (key, type) present, named `<tag>:<key>`."""
    n = len(ids)
    values: dict[str, list[Any]] = {}
    for row, metadata in enumerate(metadatas):
        for key, value in (metadata or {}).items():
            values.setdefault(meta_column(_tag(value), key), [None] * n)[row] = value
    arrays: dict[str, pa.Array] = {
        ID: pa.array(list(ids), pa.string()),
        DOCUMENT: pa.array(list(documents), pa.string()),
    }
    for name in sorted(values):
        tag = name.partition(":")[0]
        arrays[name] = pa.array(values[name], META_TAGS[tag])
    return pa.table(arrays)
