"""Export: every live record of one snapshot of a collection, as a stream of Arrow record batches.

The stream's schema is fixed before the first batch (id, embedding, document, then every typed
metadata column of the version and the log tail, sorted by key and tag) and carries the
collection's description under the schema metadata key `fletchdb.export` (JSON: format, name,
tenant, database, id, configuration, metadata, dimension, count, fletchdb version). Records come
in insertion order, taken from one snapshot: writes made during the export are not in it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa

from ..catalog.base import CollectionRecord
from ..errors import InvalidArgumentError
from ..schema import DOCUMENT, EMBEDDING, ID, embedding_type, one_array, parse_meta_column
from .reader import Rows, gather_refs, page_by_label
from .state import Snapshot

EXPORT_KEY = b"fletchdb.export"
EXPORT_FORMAT = 1
_COLUMNS = {EMBEDDING, DOCUMENT, "metadatas"}


def describe(record: CollectionRecord, count: int, version: str) -> dict[str, Any]:
    """The collection description an export carries."""
    return {
        "format": EXPORT_FORMAT,
        "name": record.name,
        "tenant": record.tenant,
        "database": record.database,
        "id": record.id,
        "configuration": record.configuration,
        "metadata": record.metadata,
        "dimension": record.dimension,
        "count": count,
        "fletchdb": version,
    }


def parse_description(metadata: dict[bytes, bytes] | None) -> dict[str, Any] | None:
    """The description in a schema's metadata; None when there is none (not a FletchDB export)."""
    raw = (metadata or {}).get(EXPORT_KEY)
    if raw is None:
        return None
    try:
        described = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidArgumentError(f"The export description is not valid JSON: {exc}") from None
    if not isinstance(described, dict) or described.get("format") != EXPORT_FORMAT:
        got = described.get("format") if isinstance(described, dict) else described
        raise InvalidArgumentError(
            f"Unsupported export format {got!r} (this FletchDB reads format {EXPORT_FORMAT})"
        )
    return described


def export_reader(
    snap: Snapshot, record: CollectionRecord, batch_rows: int, version: str
) -> pa.RecordBatchReader:
    """Every live record of `snap` in insertion order, in batches of at most `batch_rows`."""
    if isinstance(batch_rows, bool) or not isinstance(batch_rows, int) or batch_rows < 1:
        raise InvalidArgumentError(f"batch_rows must be an int > 0, got {batch_rows!r}")
    live = Rows(np.flatnonzero(~snap.dead), np.arange(snap.overlay.tail_rows, dtype=np.int64))
    refs = page_by_label(snap, live, 0, None)
    description = json.dumps(describe(record, len(refs), version), separators=(",", ":"))
    schema = export_schema(snap, record.dimension).with_metadata({EXPORT_KEY: description})

    def batches() -> Iterator[pa.RecordBatch]:
        for start in range(0, len(refs), batch_rows):
            yield conform(_records(snap, refs[start : start + batch_rows]), schema)

    return pa.RecordBatchReader.from_batches(schema, batches())


def _records(snap: Snapshot, refs: np.ndarray) -> pa.Table:
    """The records `refs` point at: a zero-copy slice when they are one run of version or tail
    rows (the usual case: records in insertion order), else gathered with `take`."""
    first, steps = int(refs[0]), np.diff(refs)
    if first >= 0 and np.all(steps == 1):
        return snap.version.records.slice(first, len(refs))
    if snap.tail is not None and first < 0 and np.all(steps == -1):
        return snap.tail.slice(-(first + 2), len(refs))  # tail row r is the ref -(r + 2)
    return gather_refs(snap, refs, _COLUMNS)


def export_schema(snap: Snapshot, dimension: int | None) -> pa.Schema:
    """id, embedding, document and the union of the version's and the tail's metadata columns."""
    sources = [t for t in (snap.version.records, snap.tail) if t is not None and t.num_rows]
    meta: dict[str, pa.DataType] = {}
    for table in sources:
        for field in table.schema:
            if parse_meta_column(field.name) is not None:
                meta.setdefault(field.name, field.type)
    ordered = sorted(meta, key=lambda n: (n.partition(":")[2], n.partition(":")[0]))
    fields = [
        pa.field(ID, pa.string(), nullable=False),
        pa.field(EMBEDDING, embedding_type(dimension or 1)),
        pa.field(DOCUMENT, pa.string()),
    ]
    return pa.schema(fields + [pa.field(n, meta[n]) for n in ordered])


def conform(table: pa.Table, schema: pa.Schema) -> pa.RecordBatch:
    """`table` as one batch of `schema`: columns in its order, absent ones null."""
    n = table.num_rows
    arrays = []
    for field in schema:
        if field.name in table.column_names:
            col = table.column(field.name)
            col = col.cast(field.type) if not col.type.equals(field.type) else col
            arrays.append(one_array(col))
        else:
            arrays.append(pa.nulls(n, field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
