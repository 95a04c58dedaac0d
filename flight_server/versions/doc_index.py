"""The document index for `$contains`: byte trigrams of each version's documents.

Substring search on UTF-8 bytes is exact for Unicode text, so every record whose document
contains a pattern of 3+ bytes has all of the pattern's byte trigrams. The index maps each
trigram (24 bits of three bytes) to the sorted rows that hold it. A search intersects the
pattern's posting lists, smallest first, then checks the few candidates with a real substring
match, so the semantics are exactly Chroma's. It is built in the compactor with numpy, stored in
the version as an Arrow table (`gram` uint32 sorted, `row` int32), and used by the executor when
narrowing beats scanning the document column.
"""

from __future__ import annotations

import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..schema import one_array

GRAM = "gram"
ROW = "row"
SCAN_FRACTION = 0.25  # when the rarest trigram is in more rows than this, scan instead


BUILD_CHUNK_ROWS = 65_536  # documents per step: the temporaries take ~60 bytes per document byte


def build(documents: pa.ChunkedArray | pa.Array) -> pa.Table:
    """The trigram index of a document column (null documents have no trigrams)."""
    docs = one_array(documents)
    docs = docs.cast(pa.string())
    parts = [
        _pairs(docs.slice(lo, BUILD_CHUNK_ROWS), lo) for lo in range(0, len(docs), BUILD_CHUNK_ROWS)
    ]
    pairs = np.concatenate(parts) if parts else np.empty(0, np.uint64)
    del parts
    pairs.sort()  # in place: (gram, row) order; rows of different steps never collide
    return _split(pairs)


def extend(
    previous: pa.Table,
    carried: np.ndarray,
    old_labels: np.ndarray,
    new_labels: np.ndarray,
    tail_docs: pa.Array | pa.ChunkedArray,
    tail_labels: np.ndarray,
) -> pa.Table:
    """The next version's trigram index from the previous one: only the tail is tokenized.

    `carried` marks the previous version's rows that pass unchanged into the next (neither
    deleted nor superseded); `old_labels`/`new_labels` are both versions' sorted labels, and the
    tail records (`tail_docs`, `tail_labels`) are the rest of the next version. Equal to
    `build(next documents)`; a bulk load no longer re-reads every document at every version.
    """
    row_map = np.full(len(old_labels), -1, dtype=np.int32)
    row_map[carried] = np.searchsorted(new_labels, old_labels[carried])
    rows = row_map[np.asarray(one_array(previous[ROW]), dtype=np.int32)]
    keep = rows >= 0
    docs = one_array(tail_docs)
    tail_keys = _pairs(docs.cast(pa.string()), 0)
    tail_rows = np.searchsorted(new_labels, tail_labels)[tail_keys & np.uint64(0xFFFFFFFF)]
    tail_keys = (tail_keys >> np.uint64(32) << np.uint64(32)) | tail_rows.astype(np.uint64)
    tail_keys.sort()
    # built in place in one array (a 1M-document table has ~40M pairs: 320 MB per uint64 copy)
    carried_count = int(np.count_nonzero(keep))
    keys = np.empty(carried_count + len(tail_keys), dtype=np.uint64)
    head = keys[:carried_count]
    head[:] = np.asarray(one_array(previous[GRAM]), dtype=np.uint32)[keep]
    head <<= np.uint64(32)
    head |= rows[keep].astype(np.uint32)
    keys[carried_count:] = tail_keys
    del rows, keep, tail_keys
    # carried rows keep their order (both versions are sorted by label), so the head is sorted:
    # a stable sort (timsort) merges the two runs in linear time
    keys.sort(kind="stable")
    return _split(keys)


def _pairs(docs: pa.Array, first_row: int) -> np.ndarray:
    """Unique (gram << 32 | row) codes of a slice of documents whose first row is `first_row`."""
    if len(docs) == 0:
        return np.empty(0, np.uint64)
    buffers = docs.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int32)[docs.offset : docs.offset + len(docs) + 1]
    offsets = offsets.astype(np.int64)
    data = np.frombuffer(buffers[2] or b"", dtype=np.uint8)[offsets[0] : offsets[-1]]
    offsets = offsets - offsets[0]
    lengths = np.diff(offsets)
    if docs.null_count:
        lengths = np.where(np.asarray(docs.is_null()), 0, lengths)
    if len(data) < 3:
        return np.empty(0, np.uint64)
    starts = np.arange(len(data) - 2)
    codes = (data[:-2].astype(np.uint32) << 16) | (data[1:-1].astype(np.uint32) << 8) | data[2:]
    owner = np.repeat(np.arange(len(docs), dtype=np.int64), np.diff(offsets))
    keep = owner[starts] == owner[starts + 2]  # the trigram lies inside one document
    keep &= lengths[owner[starts]] >= 3
    rows = (owner[starts][keep] + first_row).astype(np.uint64)
    return np.unique((codes[keep].astype(np.uint64) << np.uint64(32)) | rows)


def _split(keys: np.ndarray) -> pa.Table:
    """The table of sorted (gram << 32 | row) keys, read as 32-bit halves (no 64-bit temporaries)."""
    words = keys.view(np.uint32).reshape(-1, 2)
    high, low = (1, 0) if sys.byteorder == "little" else (0, 1)
    return _table(words[:, high].copy(), words[:, low].copy().view(np.int32))


def _table(grams: np.ndarray, rows: np.ndarray) -> pa.Table:
    return pa.table({GRAM: pa.array(grams, pa.uint32()), ROW: pa.array(rows, pa.int32())})


class DocIndex:
    """A loaded trigram index: `candidates(pattern)` narrows, `search` answers exactly."""

    def __init__(self, table: pa.Table, documents: pa.ChunkedArray) -> None:
        self.grams = np.asarray(one_array(table[GRAM]) if table.num_rows else [], dtype=np.uint32)
        self.rows = np.asarray(one_array(table[ROW]) if table.num_rows else [], dtype=np.int32)
        self.documents = documents
        self.num_docs = len(documents)

    def candidates(self, pattern: str) -> np.ndarray | None:
        """Sorted rows that may contain `pattern`, or None when a scan is the better plan."""
        raw = np.frombuffer(pattern.encode("utf-8"), dtype=np.uint8)
        if len(raw) < 3:
            return None
        codes = np.unique(
            (raw[:-2].astype(np.uint32) << 16) | (raw[1:-1].astype(np.uint32) << 8) | raw[2:]
        )
        lo = np.searchsorted(self.grams, codes, side="left")
        hi = np.searchsorted(self.grams, codes, side="right")
        sizes = hi - lo
        if sizes.min() > SCAN_FRACTION * self.num_docs:
            return None
        result: np.ndarray | None = None
        for i in np.argsort(sizes):
            postings = self.rows[lo[i] : hi[i]]
            result = (
                postings if result is None else np.intersect1d(result, postings, assume_unique=True)
            )
            if len(result) == 0:
                break
        return np.asarray(result, dtype=np.int64)

    def search(self, pattern: str) -> np.ndarray | None:
        """Sorted rows whose document contains `pattern` (case-sensitive), or None to scan."""
        rows = self.candidates(pattern)
        if rows is None or len(rows) == 0:
            return rows
        docs = self.documents.take(pa.array(rows))
        hit = pc.fill_null(pc.match_substring(docs, pattern), False)
        return rows[np.asarray(hit, dtype=bool)]
