"""Full-text tables: the postings of every token of a document column, for BM25.

Stored format (a version's `fts.arrow`, one Arrow IPC file written by the compactor): one row per
(term, record row) pair that occurs, sorted by term then row:

- `term`: dictionary<int32, utf8>; the dictionary is the version's vocabulary in UTF-8 byte order
  and the indices ascend, so a term's postings are one contiguous slice;
- `row`: int32, the record's row in the version's `records.arrow`;
- `tf`: int32, how often the term occurs in that record's document.

Document lengths (tokens per record) are `bincount(row, weights=tf)` and document frequencies the
slice lengths, so neither needs a file of its own. The same structure is built in memory for the
log tail of a snapshot, and for a version written before this file existed.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..schema import DOCUMENT, one_array
from ..versions.store import Version
from .state import Snapshot
from .tokenizer import tokenize

TERM = "term"
ROW = "row"
TF = "tf"
TERM_TYPE = pa.dictionary(pa.int32(), pa.string())
EMPTY_ROWS = np.empty(0, np.int32)


def build(documents: pa.Array | pa.ChunkedArray) -> pa.Table:
    """The postings table of a document column (format above)."""
    rows, tokens = tokenize(documents)
    if len(tokens) == 0:
        empty = pa.DictionaryArray.from_arrays(pa.array([], pa.int32()), pa.array([], pa.string()))
        return _table(empty, EMPTY_ROWS, EMPTY_ROWS)
    encoded = tokens.dictionary_encode()
    order = np.asarray(pc.array_sort_indices(encoded.dictionary), dtype=np.int64)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    codes = rank[np.asarray(encoded.indices, dtype=np.int64)]
    pairs, tf = np.unique((codes << 32) | rows, return_counts=True)
    term = pa.DictionaryArray.from_arrays(
        pa.array((pairs >> 32).astype(np.int32)), encoded.dictionary.take(pa.array(order))
    )
    return _table(term, (pairs & 0xFFFFFFFF).astype(np.int32), tf.astype(np.int32))


def _table(term: pa.Array, rows: np.ndarray, tf: np.ndarray) -> pa.Table:
    return pa.table({TERM: term, ROW: pa.array(rows, pa.int32()), TF: pa.array(tf, pa.int32())})


class FtsIndex:
    """Postings of one record table, loaded for scoring: `postings(term)` and document lengths."""

    def __init__(self, table: pa.Table, num_rows: int) -> None:
        term = one_array(table[TERM]) if table.num_rows else None
        if term is None or len(term) == 0:
            self._words: pa.Array = pa.array([], pa.string())
            ids = EMPTY_ROWS
            self.rows, self.tf = EMPTY_ROWS, EMPTY_ROWS
        else:
            self._words = term.dictionary
            ids = np.asarray(term.indices, dtype=np.int32)
            self.rows = np.asarray(one_array(table[ROW]), dtype=np.int32)
            self.tf = np.asarray(one_array(table[TF]), dtype=np.int32)
        self.offsets = np.searchsorted(ids, np.arange(len(self._words) + 1, dtype=np.int32))
        self.num_rows = num_rows
        self.doc_len = np.bincount(self.rows, weights=self.tf, minlength=num_rows)
        self.total_len = float(self.doc_len.sum())
        self._vocab: dict[str, int] | None = None

    def term_id(self, term: str) -> int:
        """The term's index in the vocabulary, or -1."""
        if self._vocab is None:  # built on the first lookup (a race builds it twice, harmlessly)
            self._vocab = {w: i for i, w in enumerate(self._words.to_pylist())}
        return self._vocab.get(term, -1)

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """(rows, term frequencies) of the records holding `term` (views, rows ascending)."""
        i = self.term_id(term)
        if i < 0:
            return EMPTY_ROWS, EMPTY_ROWS
        lo, hi = self.offsets[i], self.offsets[i + 1]
        return self.rows[lo:hi], self.tf[lo:hi]


def version_fts(version: Version) -> FtsIndex:
    """The version's full-text index: from `fts.arrow`, or built from its documents if absent."""
    index = version.cache.get("fts")
    if index is None:
        table = version.fts if version.fts is not None else build(version.records[DOCUMENT])
        index = version.cache.setdefault("fts", FtsIndex(table, version.num_rows))
    return index


def tail_fts(snap: Snapshot) -> FtsIndex:
    """The full-text index of a snapshot's log tail, tokenized on first use (pyarrow.compute)."""
    index = snap.cache.get("fts")
    if index is None:
        tail = snap.tail
        if tail is None or DOCUMENT not in tail.column_names:
            docs = pa.nulls(snap.overlay.tail_rows, pa.string())
        else:
            docs = tail[DOCUMENT]
        index = snap.cache.setdefault("fts", FtsIndex(build(docs), snap.overlay.tail_rows))
    return index
