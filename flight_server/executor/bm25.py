"""BM25 over a snapshot: the version's postings minus dead rows, plus the log tail's postings.

Statistics are those of the live collection, so a collection ranks the same before and after a
compaction: N is the number of live records (records without a document count, with length 0),
avgdl their mean length in tokens, and a term's document frequency counts live records only.
Per query term t (distinct tokens of the query) and record d:

    idf(t)     = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))
    score(d)   = sum_t idf(t) * tf(t, d) * (k1 + 1) / (tf(t, d) + k1 * (1 - b + b * len(d) / avgdl))

the Okapi BM25 of DuckDB's fts extension (and Lucene), k1 = 1.2 and b = 0.75 by default. Records
holding none of the terms do not match. The `where`/`ids` selection restricts which records are
returned, never the statistics. All of it is numpy over posting slices: no SQL round trip.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .fts_index import tail_fts, version_fts
from .state import Snapshot

K1 = 1.2
B = 0.75


@dataclass(frozen=True)
class Matches:
    """Records a text query matched: references (version row r >= 0, tail row r as -(r + 2)),
    their labels (insertion order) and BM25 scores (higher is better), in no particular order."""

    refs: np.ndarray
    labels: np.ndarray
    scores: np.ndarray


def bm25(
    snap: Snapshot,
    terms: list[str],
    k1: float = K1,
    b: float = B,
    version_rows: np.ndarray | None = None,
    tail_rows: np.ndarray | None = None,
) -> Matches:
    """Every live record holding a term, scored; restricted to the given sorted rows when given."""
    n = snap.count()
    vf, tf_ = version_fts(snap.version), tail_fts(snap)
    dead = snap.dead
    total = vf.total_len - float(vf.doc_len[dead].sum()) + tf_.total_len if n else 0.0
    if n == 0 or total == 0 or not terms:
        empty = np.empty(0, np.int64)
        return Matches(empty, empty.astype(np.uint64), np.empty(0, np.float64))
    avgdl = total / n
    v_parts: list[tuple[np.ndarray, np.ndarray]] = []
    t_parts: list[tuple[np.ndarray, np.ndarray]] = []
    for term in terms:
        v_rows, v_tf = vf.postings(term)
        live = ~dead[v_rows]
        v_rows, v_tf = v_rows[live], v_tf[live]
        t_rows, t_tf = tf_.postings(term)
        df = len(v_rows) + len(t_rows)
        if df == 0:
            continue
        idf = np.log1p((n - df + 0.5) / (df + 0.5))
        v_parts.append((v_rows, _weight(v_tf, vf.doc_len[v_rows], idf, k1, b, avgdl)))
        t_parts.append((t_rows, _weight(t_tf, tf_.doc_len[t_rows], idf, k1, b, avgdl)))
    v_refs, v_scores = _accumulate(v_parts, version_rows)
    t_refs, t_scores = _accumulate(t_parts, tail_rows)
    labels = np.concatenate([snap.version.labels[v_refs], snap.tail_labels()[t_refs]])
    return Matches(
        np.concatenate([v_refs, -(t_refs + 2)]), labels, np.concatenate([v_scores, t_scores])
    )


def _weight(
    tf: np.ndarray, dl: np.ndarray, idf: float, k1: float, b: float, avgdl: float
) -> np.ndarray:
    """One term's BM25 contribution to each record of its posting slice."""
    tf = tf.astype(np.float64)
    return idf * tf * (k1 + 1.0) / (tf + k1 * (1.0 - b + b * dl / avgdl))


def _accumulate(
    parts: list[tuple[np.ndarray, np.ndarray]], allowed: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """(distinct rows, summed contributions), keeping only `allowed` rows (sorted) when given."""
    if not parts:
        return np.empty(0, np.int64), np.empty(0, np.float64)
    rows = np.concatenate([p[0] for p in parts]).astype(np.int64)
    weights = np.concatenate([p[1] for p in parts])
    if allowed is not None:
        keep = np.isin(rows, allowed, assume_unique=False)
        rows, weights = rows[keep], weights[keep]
    distinct, inverse = np.unique(rows, return_inverse=True)
    return distinct, np.bincount(inverse, weights=weights, minlength=len(distinct))
