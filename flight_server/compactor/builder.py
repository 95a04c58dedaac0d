"""Building the next index version from the current one and a prefix of the log tail.

The HNSW index grows incrementally: the compactor keeps a mutable copy of the last index it built,
removes the labels the tail deleted or re-embedded, and adds only new or changed vectors. Records
whose embedding did not change (metadata or document updates) keep their place in the graph.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
from usearch.index import Index

from ..arguments.collection_config import USEARCH_METRIC
from ..config import Settings
from ..errors import MemoryBudgetError
from ..schema import DOCUMENT, EMBEDDING, ID, LABEL, one_array, parse_meta_column
from ..versions import doc_index
from ..versions.materialize import apply_entries, empty_overlay, fold
from ..versions.store import Version, _numpy
from ..wal.base import LogEntry

# Floats handed to one usearch add call (4,096 rows at 16 dims, 170 at 384): a stop request waits
# for one such call at most, a fraction of a second, never for a whole build.
ADD_CHUNK_VALUES = 1 << 16


def _no_check() -> None:
    """The default between-chunks check: never stop."""


def add_vectors(
    index: Index, labels: np.ndarray, vectors: np.ndarray, check: Callable[[], None] = _no_check
) -> None:
    """index.add in chunks, calling `check()` (which may raise to abandon the build) before each."""
    rows = max(1, ADD_CHUNK_VALUES // max(vectors.shape[1], 1))
    for start in range(0, len(labels), rows):
        check()
        chunk = vectors[start : start + rows]
        index.add(labels[start : start + rows], np.require(chunk, requirements=["A", "C"]))


def new_index(dimension: int, configuration: dict[str, Any]) -> Index:
    """An empty usearch index for a collection's HNSW configuration."""
    hnsw = configuration["hnsw"]
    return Index(
        ndim=dimension,
        metric=USEARCH_METRIC[hnsw["space"]],
        dtype=hnsw["dtype"],
        connectivity=hnsw["max_neighbors"],
        expansion_add=hnsw["ef_construction"],
        expansion_search=hnsw["ef_search"],
    )


# usearch's memory per vector: the vector in the index's dtype, level 0's 2*M neighbour slots of
# 4 bytes, and ~64 bytes of node header and upper levels. Calibrated against RSS growth while
# building (n 2k-100k, dims 8-384, M 16-2048, f32/f16/i8): RSS was 1.04-1.15x this sum; the margin
# covers that and the per-thread search contexts (docs/limits.md).
INDEX_SCALAR_BYTES = {"f32": 4, "f16": 2, "i8": 1}
INDEX_NODE_BYTES = 64
INDEX_MEMORY_MARGIN = 1.25
FALLBACK_MEMORY_BYTES = 8 * 2**30  # when the OS does not say how much memory it has


def index_memory_estimate(vectors: int, dimension: int, configuration: dict[str, Any]) -> int:
    """Bytes the HNSW index of `vectors` vectors is estimated to need while it is built."""
    hnsw = configuration["hnsw"]
    per_vector = (
        dimension * INDEX_SCALAR_BYTES[hnsw["dtype"]]
        + 2 * 4 * int(hnsw["max_neighbors"])
        + INDEX_NODE_BYTES
    )
    return math.ceil(INDEX_MEMORY_MARGIN * vectors * per_vector)


def compaction_memory_budget(settings: Settings) -> int:
    """max_compaction_memory_bytes, or half the physical memory when it is 0."""
    configured = int(settings.max_compaction_memory_bytes)
    if configured > 0:
        return configured
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):
        return FALLBACK_MEMORY_BYTES


def check_index_memory(
    vectors: int, dimension: int | None, configuration: dict[str, Any], settings: Settings
) -> None:
    """MemoryBudgetError, before anything is built, if the index would pass the budget."""
    if dimension is None or vectors == 0:
        return
    estimate = index_memory_estimate(vectors, dimension, configuration)
    budget = compaction_memory_budget(settings)
    if estimate > budget:
        hnsw = configuration["hnsw"]
        raise MemoryBudgetError(
            "max_compaction_memory_bytes",
            estimate,
            budget,
            f"Estimated memory of the HNSW index of {vectors} vectors x {dimension} "
            f"({hnsw['dtype']}, M={hnsw['max_neighbors']}), in bytes,",
        )


def build_records(
    version: Version, entries: list[LogEntry]
) -> tuple[pa.Table, np.ndarray, pa.Table | None]:
    """(next record table sorted by label, labels the tail removed, tail records)."""
    overlay = apply_entries(empty_overlay(version.num_rows, version.log_offset), version, entries)
    records = canonical_order(fold(version, overlay))
    removed = version.labels[overlay.dead] if len(overlay.dead) else np.empty(0, np.uint64)
    return records, removed, overlay.tail


def full_index(
    records: pa.Table,
    dimension: int,
    configuration: dict[str, Any],
    check: Callable[[], None] = _no_check,
) -> Index:
    """A freshly built index of every record (no removed nodes in its graph)."""
    index = new_index(dimension, configuration)
    if records.num_rows:
        labels = _numpy(records[LABEL], np.uint64)
        flat = one_array(records[EMBEDDING]).flatten()
        vectors = _numpy(flat, np.float32).reshape(records.num_rows, -1)
        add_vectors(index, labels, vectors, check)
    return index


def update_index(
    index: Index,
    version: Version,
    removed: np.ndarray,
    tail: pa.Table | None,
    check: Callable[[], None] = _no_check,
) -> int:
    """Apply the tail to `index` (a mutable copy of the version's index) in place.

    Returns how many labels were removed from the graph.
    """
    if tail is None or tail.num_rows == 0:
        if len(removed):
            index.remove(removed)
        return len(removed)
    labels = _numpy(tail[LABEL], np.uint64)
    vectors = _numpy(one_array(tail[EMBEDDING]).flatten(), np.float32).reshape(tail.num_rows, -1)
    unchanged = _unchanged(version, labels, vectors)
    drop = np.setdiff1d(removed, labels[unchanged])
    if len(drop):
        index.remove(drop)
    add = ~unchanged
    if add.any():
        add_vectors(index, labels[add], vectors[add], check)
    return len(drop)


def _unchanged(version: Version, labels: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Tail records whose label and embedding are already in the version's index."""
    if version.index is None or version.num_rows == 0:
        return np.zeros(len(labels), dtype=bool)
    rows = version.rows_of_labels(labels)
    found = rows >= 0
    same = np.zeros(len(labels), dtype=bool)
    if found.any():
        old = version.embeddings()[rows[found]]
        same[found] = (old == vectors[found]).all(axis=1)
    return same


def canonical_order(records: pa.Table) -> pa.Table:
    """Columns as id, label, embedding, document, then metadata columns sorted by name."""
    if DOCUMENT not in records.column_names:
        records = records.append_column(DOCUMENT, pa.nulls(records.num_rows, pa.string()))
    meta = sorted(n for n in records.column_names if parse_meta_column(n))
    return records.select([ID, LABEL, EMBEDDING, DOCUMENT, *meta]).combine_chunks()


def next_doc_grams(
    version: Version, records: pa.Table, removed: np.ndarray, tail: pa.Table | None
) -> pa.Table:
    """The next version's `$contains` trigram table: the previous one's, extended by the tail."""
    if version.doc_grams is None or version.num_rows == 0:
        return doc_index.build(records[DOCUMENT])
    carried = ~np.isin(version.labels, removed, assume_unique=True)
    new_labels = _numpy(records[LABEL], np.uint64)
    if tail is None:
        docs: pa.Array | pa.ChunkedArray = pa.array([], pa.string())
        labels = np.empty(0, np.uint64)
    else:
        labels = _numpy(tail[LABEL], np.uint64)
        has_docs = DOCUMENT in tail.column_names
        docs = tail[DOCUMENT] if has_docs else pa.nulls(tail.num_rows, pa.string())
    return doc_index.extend(version.doc_grams, carried, version.labels, new_labels, docs, labels)
