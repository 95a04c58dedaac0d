"""Running search plans: Knn, Bm25 and Rrf rankings over a snapshot, paged and projected.

Every ranker yields a ranked list: record references (version row r >= 0, tail row r as
-(r + 2)) with scores ascending, lower is better (Chroma's convention). Ties are broken by
insertion order. A search with no rank returns the selected records in insertion order, like get,
with a null score.

- Knn: its `limit` nearest selected records, score = distance in the collection's space.
- Bm25: its `limit` best selected records holding a query term, score = -BM25.
- Rrf: the records of its ranks' lists, score = -sum_i w_i / (k + r_i), r_i the 0-based position in
  list i. A record missing from list i gets r_i = that rank's `default`; with no default it is
  left out (Chroma's rule: it must appear in every list whose default is null).
With `return_rank`, a Knn/Bm25 at the top reports its 0-based position as the score.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..schema import DOCUMENT, EMBEDDING, parse_meta_column
from .bm25 import bm25
from .filters import Filters
from .reader import Executor, Rows, gather_refs
from .search_plan import Bm25, Knn, Rank, Rrf, SearchPlan
from .state import Snapshot

SCORE = "score"


def labels_of(snap: Snapshot, refs: np.ndarray) -> np.ndarray:
    """Insertion-order labels of record references."""
    is_v = refs >= 0
    labels = np.empty(len(refs), np.uint64)
    labels[is_v] = snap.version.labels[refs[is_v]]
    labels[~is_v] = snap.tail_labels()[-(refs[~is_v] + 2)]
    return labels


def _ordered(
    refs: np.ndarray, scores: np.ndarray, labels: np.ndarray, limit: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """(refs, scores) sorted by score then label, the first `limit` of them."""
    order = np.lexsort((labels, scores))[:limit]
    return refs[order], scores[order]


class SearchRunner:
    """Evaluates one plan against one snapshot of a collection."""

    def __init__(self, executor: Executor, snap: Snapshot, space: str, ef: int) -> None:
        self.executor, self.snap, self.space, self.ef = executor, snap, space, ef

    def run(self, plan: SearchPlan, filters: Filters) -> pa.Table:
        """The page of records the plan asks for (`filters`: its where, parsed), with a `score`."""
        snap = self.snap
        columns = _columns(plan.select)
        if plan.rank is None:
            table = self.executor.get(snap, plan.ids, filters, plan.limit, plan.offset, columns)
            scores = pa.nulls(table.num_rows, pa.float64())
        else:
            rows = self.executor.select(snap, plan.ids, filters)
            refs, values = self.rank(plan.rank, rows)
            end = None if plan.limit is None else plan.offset + plan.limit
            refs, values = refs[plan.offset : end], values[plan.offset : end]
            table = gather_refs(snap, refs, columns)
            scores = pa.array(values, pa.float64())
        return _project(table, plan.select).append_column(SCORE, scores)

    def rank(self, rank: Rank, rows: Rows | None) -> tuple[np.ndarray, np.ndarray]:
        """The ranked list of one ranker: (refs, scores ascending)."""
        if isinstance(rank, Knn):
            refs, scores = self._knn(rank, rows)
        elif isinstance(rank, Bm25):
            refs, scores = self._bm25(rank, rows)
        else:
            return self._rrf(rank, rows)
        if rank.return_rank:
            scores = np.arange(len(refs), dtype=np.float64)
        return refs, scores

    def _knn(self, rank: Knn, rows: Rows | None) -> tuple[np.ndarray, np.ndarray]:
        if self.snap.count() == 0:
            return np.empty(0, np.int64), np.empty(0, np.float64)
        dist, refs = self.executor.nearest(
            self.snap, rank.query, rank.limit, rows, self.space, self.ef
        )
        ok = np.isfinite(dist[0]) & (refs[0] != -1)
        found = refs[0][ok]
        return _ordered(found, dist[0][ok].astype(np.float64), labels_of(self.snap, found), None)

    def _bm25(self, rank: Bm25, rows: Rows | None) -> tuple[np.ndarray, np.ndarray]:
        v_rows = None if rows is None else rows.version
        t_rows = None if rows is None else rows.tail
        m = bm25(self.snap, list(rank.terms), rank.k1, rank.b, v_rows, t_rows)
        return _ordered(m.refs, -m.scores, m.labels, rank.limit)

    def _rrf(self, rank: Rrf, rows: Rows | None) -> tuple[np.ndarray, np.ndarray]:
        lists = [self.rank(r, rows)[0] for r in rank.ranks]
        candidates = np.unique(np.concatenate(lists)) if lists else np.empty(0, np.int64)
        total = np.zeros(len(candidates), np.float64)
        keep = np.ones(len(candidates), bool)
        for sub, refs, weight in zip(rank.ranks, lists, rank.weights, strict=True):
            present, position = _positions(refs, candidates)
            default = None if isinstance(sub, Rrf) else sub.default
            if default is None:
                keep &= present
            else:
                position = np.where(present, position, default)
            total += weight / (rank.k + position)
        refs, scores = candidates[keep], -total[keep]
        return _ordered(refs, scores, labels_of(self.snap, refs), None)


def _positions(ranked: np.ndarray, refs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(whether each of `refs` is in the ranked list, its 0-based position there or 0)."""
    if len(ranked) == 0:
        return np.zeros(len(refs), bool), np.zeros(len(refs), np.float64)
    order = np.argsort(ranked, kind="stable")
    at = np.minimum(np.searchsorted(ranked[order], refs), len(ranked) - 1)
    present = ranked[order][at] == refs
    return present, np.where(present, order[at], 0).astype(np.float64)


def _columns(select: tuple[str, ...]) -> set[str]:
    """Executor column names for a select list."""
    columns: set[str] = set()
    if "#document" in select:
        columns.add(DOCUMENT)
    if "#embedding" in select:
        columns.add(EMBEDDING)
    if any(not key.startswith("#") for key in select) or "#metadata" in select:
        columns.add("metadatas")
    return columns


def _project(table: pa.Table, select: tuple[str, ...]) -> pa.Table:
    """Only the selected metadata keys, unless `#metadata` selects them all."""
    if "#metadata" in select:
        return table
    keys = {key for key in select if not key.startswith("#")}
    drop = [n for n in table.column_names if (p := parse_meta_column(n)) and p[1] not in keys]
    return table.drop_columns(drop) if drop else table
