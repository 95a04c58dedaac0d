"""A brute-force, plain-Python reference model of one collection (Chroma 1.5.9 write semantics).

Records live in a dict id -> `Record`; nothing is indexed, every read scans. Semantics:
- add of an existing id is ignored (the first add of an id in a batch wins);
- update of a missing id is ignored; a given embedding/document replaces the old one, metadata
  keys are merged and a None value removes a key; a record whose metadata ends up empty reads
  back as None;
- upsert is update for an existing id and add for a new one (None values are dropped);
- delete of a missing id is ignored;
- get order is the order of each record's first add: updates keep the position, a re-add after a
  delete goes to the end.
Distances are Chroma's: l2 squared Euclidean, cosine 1 - cos, ip 1 - dot (computed in float64).

`check_records`, `check_knn` and `check_query` compare engine results with the model (ties in
distance allowed).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tests.support.reference_filter import matches

Metadata = dict[str, Any]


@dataclass
class Record:
    """One live record of the model."""

    order: int
    embedding: np.ndarray
    document: str | None
    metadata: Metadata | None


def _clean(metadata: Metadata | None) -> Metadata | None:
    """Metadata as stored for a new record: None values dropped, empty -> None."""
    if metadata is None:
        return None
    kept = {k: v for k, v in metadata.items() if v is not None}
    return kept or None


def _merge(old: Metadata | None, change: Metadata | None) -> Metadata | None:
    if change is None:
        return old
    merged = dict(old or {})
    for key, value in change.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged or None


def _column(values: Sequence[Any] | None, n: int) -> list[Any]:
    return [None] * n if values is None else list(values)


class CollectionModel:
    """The reference collection."""

    def __init__(self, dim: int, space: str = "l2") -> None:
        assert space in ("l2", "cosine", "ip")
        self.dim = dim
        self.space = space
        self.records: dict[str, Record] = {}
        self._counter = itertools.count()

    # Writes ------------------------------------------------------------------------------
    def add(
        self,
        ids: Sequence[str],
        embeddings: Sequence[Any],
        metadatas: Sequence[Metadata | None] | None = None,
        documents: Sequence[str | None] | None = None,
    ) -> None:
        """Add records whose id is not live yet."""
        metas, docs = _column(metadatas, len(ids)), _column(documents, len(ids))
        for i, id_ in enumerate(ids):
            if id_ not in self.records:
                self._insert(id_, embeddings[i], docs[i], metas[i])

    def update(
        self,
        ids: Sequence[str],
        embeddings: Sequence[Any] | None = None,
        metadatas: Sequence[Metadata | None] | None = None,
        documents: Sequence[str | None] | None = None,
    ) -> None:
        """Update live records (missing ids ignored)."""
        embs, metas, docs = (_column(c, len(ids)) for c in (embeddings, metadatas, documents))
        for i, id_ in enumerate(ids):
            if id_ in self.records:
                self._change(id_, embs[i], docs[i], metas[i])

    def upsert(
        self,
        ids: Sequence[str],
        embeddings: Sequence[Any],
        metadatas: Sequence[Metadata | None] | None = None,
        documents: Sequence[str | None] | None = None,
    ) -> None:
        """Update live records, add the others."""
        metas, docs = _column(metadatas, len(ids)), _column(documents, len(ids))
        for i, id_ in enumerate(ids):
            if id_ in self.records:
                self._change(id_, embeddings[i], docs[i], metas[i])
            else:
                self._insert(id_, embeddings[i], docs[i], metas[i])

    def delete(self, ids: Iterable[str]) -> None:
        """Delete records (missing ids ignored)."""
        for id_ in ids:
            self.records.pop(id_, None)

    def delete_where(
        self,
        ids: Sequence[str] | None = None,
        where: dict[str, Any] | None = None,
        where_document: dict[str, Any] | None = None,
    ) -> list[str]:
        """Delete the records `get` would select; return their ids."""
        doomed = self.get_ids(ids, where, where_document)
        self.delete(doomed)
        return doomed

    def _insert(self, id_: str, embedding: Any, document: str | None, metadata: Any) -> None:
        vector = np.asarray(embedding, dtype=np.float32).reshape(-1)
        assert vector.shape == (self.dim,)
        self.records[id_] = Record(next(self._counter), vector, document, _clean(metadata))

    def _change(self, id_: str, embedding: Any, document: str | None, metadata: Any) -> None:
        record = self.records[id_]
        if embedding is not None:
            record.embedding = np.asarray(embedding, dtype=np.float32).reshape(-1)
        if document is not None:
            record.document = document
        record.metadata = _merge(record.metadata, metadata)

    # Reads -------------------------------------------------------------------------------
    def count(self) -> int:
        """Live records."""
        return len(self.records)

    def ordered(self) -> list[tuple[str, Record]]:
        """Live records in insertion order."""
        return sorted(self.records.items(), key=lambda item: item[1].order)

    def get_ids(
        self,
        ids: Sequence[str] | None = None,
        where: dict[str, Any] | None = None,
        where_document: dict[str, Any] | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> list[str]:
        """Ids `get` returns, in insertion order, paged."""
        wanted = None if ids is None else set(ids)
        selected = [
            id_
            for id_, r in self.ordered()
            if (wanted is None or id_ in wanted)
            and matches(where, where_document, r.metadata, r.document)
        ]
        start = offset or 0
        return selected[start : None if limit is None else start + limit]

    def distances(
        self,
        query: Any,
        ids: Sequence[str] | None = None,
        where: dict[str, Any] | None = None,
        where_document: dict[str, Any] | None = None,
    ) -> dict[str, float]:
        """Distance (float64) from `query` to every selected record."""
        q = np.asarray(query, dtype=np.float32).astype(np.float64).reshape(-1)
        out = {}
        for id_ in self.get_ids(ids, where, where_document):
            out[id_] = distance(q, self.records[id_].embedding, self.space)
        return out

    def exact_knn(
        self,
        query: Any,
        k: int,
        space: str | None = None,
        where: dict[str, Any] | None = None,
        where_document: dict[str, Any] | None = None,
        ids: Sequence[str] | None = None,
    ) -> list[tuple[str, float]]:
        """The k nearest selected records as (id, distance), ascending (ties by insertion order)."""
        if space is not None and space != self.space:
            saved, self.space = self.space, space
            try:
                found = self.distances(query, ids, where, where_document)
            finally:
                self.space = saved
        else:
            found = self.distances(query, ids, where, where_document)
        return sorted(found.items(), key=lambda item: item[1])[:k]


def distance(query: np.ndarray, vector: np.ndarray, space: str) -> float:
    """Chroma's distance between two vectors, in float64."""
    q = np.asarray(query, dtype=np.float64)
    v = np.asarray(vector, dtype=np.float64)
    if space == "l2":
        return float(np.sum((q - v) ** 2))
    if space == "ip":
        return float(1.0 - q @ v)
    denom = float(np.linalg.norm(q) * np.linalg.norm(v))
    return float(1.0 - (q @ v) / denom) if denom > 0 else 1.0


# Comparing engine results with the model -----------------------------------------------------
def typed(value: Any) -> Any:
    """A value with its type attached, so that 1, 1.0 and True compare unequal."""
    if isinstance(value, dict):
        return {k: typed(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return ("list", tuple(typed(v) for v in value))
    return (type(value).__name__, value)


def check_records(model: CollectionModel, got: dict[str, Any], ids: Sequence[str]) -> None:
    """`got` (a get result with embeddings, metadatas, documents) holds exactly `ids` as modelled."""
    assert got["ids"] == list(ids), f"ids differ:\n got  {got['ids']}\n want {list(ids)}"
    if not ids:
        return
    embeddings = np.asarray(got["embeddings"], dtype=np.float32)
    want = np.stack([model.records[i].embedding for i in ids])
    assert embeddings.shape == want.shape
    bad = ~(embeddings == want).all(axis=1)
    assert not bad.any(), f"embeddings differ for {[i for i, b in zip(ids, bad, strict=True) if b]}"
    for i, id_ in enumerate(ids):
        record = model.records[id_]
        assert got["documents"][i] == record.document, (
            f"document of {id_!r}: got {got['documents'][i]!r}, want {record.document!r}"
        )
        assert typed(got["metadatas"][i]) == typed(record.metadata), (
            f"metadata of {id_!r}: got {got['metadatas'][i]!r}, want {record.metadata!r}"
        )


def tolerance(query: Any, vectors: Iterable[np.ndarray], space: str) -> float:
    """Absolute slack for float32 distances of `query` to `vectors` (scaled by squared norms)."""
    q2 = float(np.sum(np.asarray(query, dtype=np.float64) ** 2))
    v2 = max((float(np.sum(v.astype(np.float64) ** 2)) for v in vectors), default=0.0)
    scale = 1.0 if space == "cosine" else 1.0 + q2 + v2
    return 1e-4 * scale


def check_knn(
    got_ids: Sequence[str],
    got_distances: Sequence[float],
    want: dict[str, float],
    k: int,
    atol: float,
    rtol: float = 1e-4,
    exact: bool = True,
) -> tuple[int, int]:
    """Check one query's result against the model's distances to every selected record.

    Ties are allowed: an id may be swapped for another at the k-th distance (within tolerance).
    Always: every returned id is selected and unique, has the model's distance, results ascend.
    With `exact`, the result is a true top-k; otherwise (approximate index) the caller checks the
    recall from the returned (hits, expected) counts.
    """
    got_ids, got_d = list(got_ids), [float(d) for d in got_distances]
    n = min(k, len(want))
    assert len(got_ids) == len(set(got_ids)), f"duplicate ids in {got_ids}"
    assert len(got_ids) <= n, f"{len(got_ids)} results, at most {n} expected: {got_ids}"
    unknown = [i for i in got_ids if i not in want]
    assert not unknown, f"results {unknown} are deleted or not selected (want among {sorted(want)})"
    for id_, d in zip(got_ids, got_d, strict=True):
        assert abs(d - want[id_]) <= atol + rtol * abs(want[id_]), (
            f"distance of {id_!r}: got {d}, want {want[id_]}"
        )
    assert all(a <= b + atol for a, b in zip(got_d[:-1], got_d[1:], strict=True)), (
        f"not ascending: {got_d}"
    )
    if n == 0:
        return 0, 0
    kth = sorted(want.values())[n - 1]
    slack = atol + rtol * abs(kth)
    must = {i for i, d in want.items() if d < kth - slack}
    may = {i for i, d in want.items() if d <= kth + slack}
    hits = sum(1 for i in got_ids if i in may)
    if exact:
        assert len(got_ids) == n, f"{len(got_ids)} results, {n} expected: {got_ids}"
        assert must <= set(got_ids), f"missing {sorted(must - set(got_ids))} from {got_ids}"
        assert set(got_ids) <= may, f"{sorted(set(got_ids) - may)} farther than the k-th"
    return hits, n


def check_query(
    collection: Any,
    model: CollectionModel,
    queries: Sequence[Any],
    k: int,
    where: dict[str, Any] | None = None,
    where_document: dict[str, Any] | None = None,
    ids: Sequence[str] | None = None,
    exact: bool = True,
    min_recall: float = 0.95,
) -> tuple[int, int]:
    """Run one `collection.query` and check every query's result against the model.

    With `exact` each result must be a true top-k (ties allowed); otherwise the whole check
    needs recall >= min_recall. Returns (hits, expected) over all queries.
    """
    if model.count() == 0:
        got = collection.query(
            query_embeddings=[np.asarray(q, dtype=np.float32) for q in queries],
            n_results=k,
            where=where,
            where_document=where_document,
            ids=None if ids is None else list(ids),
            include=["distances", "documents"],
        )
        assert got["ids"] == [[] for _ in queries], got["ids"]
        assert got["distances"] == [[] for _ in queries], got["distances"]
        return 0, 0
    got = collection.query(
        query_embeddings=[np.asarray(q, dtype=np.float32) for q in queries],
        n_results=k,
        where=where,
        where_document=where_document,
        ids=None if ids is None else list(ids),
        include=["distances", "embeddings", "metadatas", "documents"],
    )
    assert len(got["ids"]) == len(queries)
    hits = total = 0
    for qi, query in enumerate(queries):
        want = model.distances(query, ids, where, where_document)
        atol = tolerance(query, [model.records[i].embedding for i in want], model.space)
        h, n = check_knn(got["ids"][qi], got["distances"][qi], want, k, atol, exact=exact)
        hits, total = hits + h, total + n
        row = {key: got[key][qi] for key in ("ids", "embeddings", "metadatas", "documents")}
        check_records(model, row, got["ids"][qi])  # each result's fields belong to its id
    assert hits >= min_recall * total, f"recall {hits}/{total} below {min_recall}"
    return hits, total
